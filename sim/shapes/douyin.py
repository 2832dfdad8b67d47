"""Douyin shop orders as ``order.searchList`` returns them (the inverse of
``hub.domain.adapters.douyin``; read that module's docstring for the field meanings).

Receiver name, phone and street detail are sent encrypted with ``encrypt`` (a stand-in
cipher when none is given) beside their masked copies, as Douyin does. The adapter reads
the plain values back only when given the decrypt results: ``decrypt_map(raw, encrypt)``
builds them for tests and the emulator's batch-decrypt endpoint.

A Douyin order cannot carry: an express delivery, a same-city presale, a buyer tier
(the CRM's), a source other than "" / "live_room" / "shortvideo", a goods total other
than the sum of its lines. ``expressible`` says
whether ``parse_order(to_raw(o), decrypted=...) == o`` can hold.

>>> from tests.factories import order
>>> raw = to_raw(order(1))
>>> raw["order_status"], raw["mask_post_tel"], raw["encrypt_post_tel"][:2]
(2, '*******5678', '##')
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from hub.domain import DeliveryService, Order, OrderStatus, OrderType, mask_phone
from sim.shapes import number_or_text

STATUS = {OrderStatus.UNPAID: 1, OrderStatus.PAID: 2, OrderStatus.PARTIALLY_SHIPPED: 101,
          OrderStatus.SHIPPED: 3, OrderStatus.CANCELLED: 4, OrderStatus.FINISHED: 5}
STATUS_TEXT = {1: "待支付", 2: "备货中", 101: "部分发货", 3: "已发货", 4: "已取消", 5: "已完成"}
PRESALE = (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL)
SOURCES = ("", "live_room", "shortvideo")


def stand_in_cipher(plain: str) -> str:
    """A reversible stand-in for Douyin's cipher text (``##...##`` like the real one)."""
    return "##" + base64.b64encode(plain.encode()).decode() + "##"


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 0)


def mask_detail(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 3, 0)


def expressible(order: Order) -> bool:
    """Whether a Douyin order can carry everything in ``order``."""
    kind, source = order.order_type, order.source
    return (order.delivery != DeliveryService.EXPRESS and order.buyer.tier == "normal"
            and order.amounts.total_fen == sum(i.price_fen * i.quantity for i in order.items)
            and source in SOURCES and (source or not order.source_detail)
            and (source != "shortvideo" or order.source_detail)
            and not (kind in PRESALE and order.delivery == DeliveryService.SAME_CITY)
            and (kind in PRESALE or kind == OrderType.GIFT
                 or (kind == OrderType.LIVE_FLASH) == (source == "live_room"))
            and not (source == "live_room" and order.source_detail in ("0",)))


def decrypt_map(raw: dict, encrypt: Callable[[str], str] | None,
                order: Order) -> dict[str, str]:
    """cipher -> plain for ``raw`` (what the batch-decrypt API answers)."""
    seal = encrypt or stand_in_cipher
    r = order.receiver
    return {seal(r.name): r.name, seal(r.phone): r.phone, seal(r.detail): r.detail}


def _line(order: Order, index: int, trade_type: int, room: str, video: str) -> dict:
    i = order.items[index]
    line: dict = {
        "order_id": f"{order.order_id}{index:02d}" if len(order.items) > 1 else order.order_id,
        "parent_order_id": order.order_id, "sku_id": number_or_text(i.sku),
        "out_sku_id": i.outer_sku, "product_id": number_or_text(i.item_id) if i.item_id else 0,
        "product_id_str": i.item_id, "product_name": i.sku, "item_num": i.quantity,
        "origin_amount": i.price_fen, "sum_amount": i.price_fen * i.quantity,
        "trade_type": trade_type, "order_status": STATUS[order.status],
        "author_id": 0, "room_id": 0, "room_id_str": "", "theme_type": "0", "video_id": video,
        "given_product_type": "FREE" if order.order_type == OrderType.GIFT else "MASTER",
        "inventory_list": [{"warehouse_id": order.warehouse_hint,
                            "out_warehouse_id": order.warehouse_hint, "inventory_type": 1,
                            "count": i.quantity}] if order.warehouse_hint else [],
    }
    if order.source == "live_room":
        line.update(theme_type="1", theme_type_desc="直播间", room_id_str=room,
                    room_id=room_int if (room_int := number_or_text(room)).__class__ is int
                    else 0)
    return line


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    """``order`` as one entry of ``shop_order_list``."""
    r, a = order.receiver, order.amounts
    seal = encrypt or stand_in_cipher
    presale = order.order_type in PRESALE
    same_city = order.delivery == DeliveryService.SAME_CITY
    trade_type = 2 if presale else 18 if same_city else 0
    video = order.source_detail if order.source == "shortvideo" else ""
    status = STATUS[order.status]
    raw: dict = {
        "shop_id": number_or_text(order.shop), "order_id": order.order_id,
        "order_level": 2, "order_status": status, "order_status_desc": STATUS_TEXT[status],
        "main_status": status, "trade_type": trade_type,
        "create_time": int(order.created_at.timestamp()),
        "update_time": int(order.modified_at.timestamp()),
        "pay_time": int(order.paid_at.timestamp()) if order.paid_at else 0,
        "order_amount": max(a.total_fen - a.discount_fen + a.freight_fen, 0),
        "pay_amount": a.paid_fen, "post_amount": a.freight_fen,
        "promotion_amount": a.discount_fen, "doudian_open_id": order.buyer.id,
        "encrypt_post_receiver": seal(r.name), "encrypt_post_tel": seal(r.phone),
        "mask_post_receiver": mask_name(r.name), "mask_post_tel": mask_phone(r.phone),
        "post_addr": {"province": {"name": r.province, "id": ""},
                      "city": {"name": r.city, "id": ""}, "town": {"name": r.district, "id": ""},
                      "street": {"name": r.street, "id": ""}, "encrypt_detail": seal(r.detail)},
        "mask_post_addr": {"province": {"name": r.province, "id": ""},
                           "city": {"name": r.city, "id": ""},
                           "town": {"name": r.district, "id": ""},
                           "street": {"name": r.street, "id": ""},
                           "detail": mask_detail(r.detail)},
        "user_tag_ui": [{"key": tag, "text": tag} for tag in order.buyer.tags],
        "order_phase_list": [],
        "sku_order_list": [_line(order, n, trade_type, order.source_detail, video)
                           for n in range(len(order.items))],
    }
    if presale:
        final = order.order_type == OrderType.PRESALE_FINAL
        raw["order_phase_list"] = [
            {"phase_order_id": f"{order.order_id}1", "total_phase": 2, "current_phase": 1,
             "pay_success": True, "phase_pay_amount": 0 if final else a.paid_fen},
            {"phase_order_id": f"{order.order_id}2", "total_phase": 2, "current_phase": 2,
             "pay_success": final, "phase_pay_amount": a.paid_fen if final else 0}]
    if same_city:
        created = int(order.created_at.timestamp())
        raw["earliest_receipt_time"] = created + 1800
        raw["latest_receipt_time"] = created + 3600
    return raw


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    """The response envelope around ``raws`` (``page_no`` from 0, as Douyin counts)."""
    return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
            "log_id": f"emu{page_no}", "data": {"shop_order_list": raws, "total": total,
                                                "page": page_no, "size": page_size}}


def error(code: int | str, message: str, sub_code: str = "") -> dict:
    return {"code": int(code), "msg": message, "sub_code": sub_code, "sub_msg": message,
            "log_id": "emu", "data": None}


def throttled() -> dict:
    return error(50002, "业务处理失败", "isv.access-limited:request too frequent")
