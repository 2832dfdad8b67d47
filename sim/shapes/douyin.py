"""Douyin shop orders as ``order.searchList`` returns them, receiver fields encrypted."""

from __future__ import annotations

from collections.abc import Callable

from hub.domain.order import DeliveryService, Order, OrderStatus, OrderType, mask_phone

STATUS = {OrderStatus.UNPAID: 1, OrderStatus.PAID: 2, OrderStatus.PARTIALLY_SHIPPED: 101,
          OrderStatus.SHIPPED: 3, OrderStatus.CANCELLED: 4, OrderStatus.FINISHED: 5}
LOGISTICS = {DeliveryService.SAME_CITY: "same_city", DeliveryService.EXPRESS: "express"}


def _mask(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 0)


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    r, a = order.receiver, order.amounts
    seal = encrypt or (lambda plain: plain)
    room = order.source_detail if order.source == "live_room" else 0
    raw: dict = {
        "order_id": order.order_id, "shop_id": order.shop, "order_status": STATUS[order.status],
        "create_time": int(order.created_at.timestamp()),
        "update_time": int(order.modified_at.timestamp()),
        "pay_time": int(order.paid_at.timestamp()) if order.paid_at else 0,
        "order_amount": a.total_fen - a.discount_fen + a.freight_fen,
        "pay_amount": a.paid_fen, "post_amount": a.freight_fen,
        "promotion_amount": a.discount_fen, "doudian_open_id": order.buyer.id,
        "encrypt_post_receiver": seal(r.name), "encrypt_post_tel": seal(r.phone),
        "mask_post_receiver": _mask(r.name), "mask_post_tel": mask_phone(r.phone),
        "post_addr": {"province": {"name": r.province, "id": ""}, "city": {"name": r.city},
                      "town": {"name": r.district}, "street": {"name": r.street},
                      "encrypt_detail": seal(r.detail)},
        "mask_post_addr": {"detail": _mask(r.detail)},
        "sku_order_list": [{"sku_id": i.sku, "out_sku_id": i.outer_sku, "item_num": i.quantity,
                            "goods_price": i.price_fen, "origin_amount": i.price_fen * i.quantity,
                            "room_id": room or 0} for i in order.items],
        "trade_type": 0,
    }
    if order.order_type in (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL):
        raw["trade_type"] = 2
        raw["presale_stage"] = "final" if order.order_type == OrderType.PRESALE_FINAL \
            else "deposit"
    if order.delivery in LOGISTICS:
        raw["logistics_type"] = LOGISTICS[order.delivery]
    if order.warehouse_hint:
        raw["warehouse_id"] = order.warehouse_hint
    return raw


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "emu",
            "data": {"shop_order_list": raws, "total": total, "page": page_no,
                     "size": page_size}}


def error(code: int | str, message: str, sub_code: str = "") -> dict:
    return {"code": int(code), "msg": message, "sub_code": sub_code, "sub_msg": message,
            "log_id": "emu", "data": None}


def throttled() -> dict:
    return error(50002, "请求太频繁", "isv.rate-limited")
