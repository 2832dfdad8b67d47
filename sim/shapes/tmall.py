"""Tmall trades as ``taobao.trades.sold.increment.get`` returns them (the inverse of
``hub.domain.adapters.tmall``; read that module's docstring for the field meanings).

What a Taobao trade cannot carry is dropped: buyer tier and tags (the CRM's), and a
source other than "" / "live_room" / one lower-case word. ``parse_order(to_raw(o)) == o``
holds for every order that keeps within that (see ``expressible``).

>>> from tests.factories import order
>>> to_raw(order(1))["status"]
'WAIT_SELLER_SEND_GOODS'
"""

from __future__ import annotations

from collections.abc import Callable

from hub.domain import DeliveryService, Order, OrderStatus, OrderType
from sim.shapes import FMT, number_or_text, yuan

STATUS = {OrderStatus.UNPAID: "WAIT_BUYER_PAY", OrderStatus.PAID: "WAIT_SELLER_SEND_GOODS",
          OrderStatus.PARTIALLY_SHIPPED: "SELLER_CONSIGNED_PART",
          OrderStatus.SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
          OrderStatus.FINISHED: "TRADE_FINISHED", OrderStatus.CANCELLED: "TRADE_CLOSED"}
SHIPPING = {DeliveryService.EXPRESS: "25", DeliveryService.SAME_CITY: "express",
            DeliveryService.STANDARD: "express"}
PRESALE = (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL)


def expressible(order: Order) -> bool:
    """Whether a Taobao trade can carry everything in ``order``."""
    live = order.source == "live_room"
    kind = order.order_type
    return (order.buyer.tier == "normal" and not order.buyer.tags
            and (live or not order.source_detail)
            and (order.source == "" or live or (order.source.isalpha() and order.source.isascii()
                                                and order.source.islower()))
            and (kind in PRESALE or kind == OrderType.GIFT
                 or (kind == OrderType.LIVE_FLASH) == live))


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    """``order`` as one trade of the response. Taobao sends receiver fields in clear
    (or as its own masked copies), so ``encrypt`` is not used."""
    r, a = order.receiver, order.amounts
    tid = number_or_text(order.order_id)
    trade: dict = {
        "tid": tid, "tid_str": order.order_id, "status": STATUS[order.status],
        "seller_nick": order.shop, "created": order.created_at.strftime(FMT),
        "modified": order.modified_at.strftime(FMT), "buyer_open_uid": order.buyer.id,
        "buyer_nick": order.buyer.id[:1] + "**", "receiver_name": r.name,
        "receiver_mobile": r.phone, "receiver_state": r.province, "receiver_city": r.city,
        "receiver_district": r.district, "receiver_town": r.street,
        "receiver_address": r.detail, "receiver_zip": "000000",
        "total_fee": yuan(a.total_fen), "discount_fee": yuan(a.discount_fen),
        "post_fee": yuan(a.freight_fen), "payment": yuan(a.paid_fen), "type": "fixed",
        "shipping_type": SHIPPING[order.delivery], "num": sum(i.quantity for i in order.items),
        "orders": {"order": [
            {"oid": number_or_text(f"{order.order_id}{n:02d}"),
             "num_iid": number_or_text(i.item_id or i.sku), "sku_id": i.sku,
             "outer_sku_id": i.outer_sku, "num": i.quantity,
             "price": yuan(i.price_fen), "total_fee": yuan(i.price_fen * i.quantity),
             "title": i.sku, "status": STATUS[order.status]}
            for n, i in enumerate(order.items)]},
    }
    if order.paid_at:
        trade["pay_time"] = order.paid_at.strftime(FMT)
    if order.order_type in PRESALE:
        final = order.order_type == OrderType.PRESALE_FINAL
        trade["type"] = "step"
        trade["step_trade_status"] = "FRONT_PAID_FINAL_PAID" if final \
            else "FRONT_PAID_FINAL_NOPAID"
        trade["step_paid_fee"] = yuan(a.paid_fen)
        if not final:  # the deposit is paid; ``payment`` is what the whole trade will cost
            trade["payment"] = yuan(max(a.total_fen - a.discount_fen + a.freight_fen, 0))
    elif order.order_type == OrderType.GIFT:
        trade["is_gift"] = True
    if order.source == "live_room":
        trade["trade_from"] = "WAP,LIVE"
        trade["live_room_id"] = order.source_detail
    elif order.source:
        trade["trade_from"] = order.source.upper()
    if order.delivery == DeliveryService.SAME_CITY:
        trade["tcps_code"] = "storeDsd-fn-3-1"
    if order.warehouse_hint:
        trade["rt_omni_store_id"] = order.warehouse_hint
    return trade


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    """The response envelope around ``raws`` (``page_no`` from 1, as Taobao counts)."""
    return {"trades_sold_increment_get_response": {
        "total_results": total, "has_next": has_next, "trades": {"trade": raws},
        "request_id": f"emu-{page_no}-{page_size}"}}


def error(code: int | str, message: str, sub_code: str = "", sub_msg: str = "") -> dict:
    return {"error_response": {"code": int(code), "msg": message, "sub_code": sub_code,
                               "sub_msg": sub_msg or message, "request_id": "emu"}}


def throttled() -> dict:
    return error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                 "This ban will last for 1 more seconds")
