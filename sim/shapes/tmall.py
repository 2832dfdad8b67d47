"""Tmall trades as ``taobao.trades.sold.increment.get`` returns them."""

from __future__ import annotations

from collections.abc import Callable

from hub.domain.order import DeliveryService, Order, OrderStatus, OrderType

STATUS = {OrderStatus.UNPAID: "WAIT_BUYER_PAY", OrderStatus.PAID: "WAIT_SELLER_SEND_GOODS",
          OrderStatus.PARTIALLY_SHIPPED: "SELLER_CONSIGNED_PART",
          OrderStatus.SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
          OrderStatus.FINISHED: "TRADE_FINISHED", OrderStatus.CANCELLED: "TRADE_CLOSED"}
SHIPPING = {DeliveryService.EXPRESS: "ems", DeliveryService.SAME_CITY: "tcps",
            DeliveryService.STANDARD: "express"}
FMT = "%Y-%m-%d %H:%M:%S"


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    from sim.shapes import yuan

    r, a = order.receiver, order.amounts
    trade: dict = {
        "tid": order.order_id, "status": STATUS[order.status], "seller_nick": order.shop,
        "created": order.created_at.strftime(FMT), "modified": order.modified_at.strftime(FMT),
        "buyer_open_uid": order.buyer.id, "buyer_nick": order.buyer.id[:1] + "**",
        "receiver_name": r.name, "receiver_mobile": r.phone, "receiver_state": r.province,
        "receiver_city": r.city, "receiver_district": r.district, "receiver_town": r.street,
        "receiver_address": r.detail, "total_fee": yuan(a.total_fen),
        "discount_fee": yuan(a.discount_fen), "post_fee": yuan(a.freight_fen),
        "payment": yuan(a.paid_fen), "type": "fixed", "shipping_type": SHIPPING[order.delivery],
        "orders": {"order": [
            {"oid": f"{order.order_id}{i:02d}", "num_iid": item.sku, "sku_id": item.sku,
             "outer_sku_id": item.outer_sku, "num": item.quantity, "price": yuan(item.price_fen),
             "title": item.sku} for i, item in enumerate(order.items)]},
    }
    if order.paid_at:
        trade["pay_time"] = order.paid_at.strftime(FMT)
    if order.order_type in (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL):
        final = order.order_type == OrderType.PRESALE_FINAL
        trade["type"] = "step"
        trade["step_trade_status"] = "FRONT_PAID_FINAL_PAID" if final \
            else "FRONT_PAID_FINAL_NOPAID"
        trade["step_paid_fee"] = yuan(a.paid_fen)
    if order.source == "live_room":
        trade["trade_from"] = "WAP,LIVE"
        trade["live_room_id"] = order.source_detail
    elif order.source:
        trade["trade_from"] = order.source.upper()
    if order.warehouse_hint:
        trade["store_code"] = order.warehouse_hint
    return trade


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    return {"trades_sold_increment_get_response": {
        "total_results": total, "has_next": has_next, "trades": {"trade": raws},
        "request_id": f"emu{page_no}"}}


def error(code: int | str, message: str, sub_code: str = "", sub_msg: str = "") -> dict:
    return {"error_response": {"code": int(code), "msg": message, "sub_code": sub_code,
                               "sub_msg": sub_msg or message, "request_id": "emu"}}


def throttled() -> dict:
    return error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                 "This ban will last for 1 more seconds")
