"""JD POP orders as ``jingdong.pop.order.search`` returns them (the inverse of
``hub.domain.adapters.jd``; read that module's docstring for the field meanings).

A JD order cannot carry: a partly-shipped state, gift orders, buyer tags, a tier other
than plus / normal, a source other than "" / "live_room". ``expressible`` says whether
``parse_order(to_raw(o)) == o`` can hold.

>>> from tests.factories import order
>>> to_raw(order(1))["orderState"]
'WAIT_SELLER_STOCK_OUT'
"""

from __future__ import annotations

from collections.abc import Callable

from hub.domain import DeliveryService, Order, OrderStatus, OrderType
from sim.shapes import FMT, yuan

STATUS = {OrderStatus.UNPAID: "NOT_PAY", OrderStatus.PAID: "WAIT_SELLER_STOCK_OUT",
          OrderStatus.PARTIALLY_SHIPPED: "WAIT_SELLER_STOCK_OUT",  # JD has no such state
          OrderStatus.SHIPPED: "WAIT_GOODS_RECEIVE_CONFIRM",
          OrderStatus.FINISHED: "FINISHED_L", OrderStatus.CANCELLED: "TRADE_CANCELED"}
DELIVERY = {DeliveryService.SAME_CITY: "同城配送", DeliveryService.EXPRESS: "京准达",
            DeliveryService.STANDARD: "任意时间"}
PRESALE = (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL)


def expressible(order: Order) -> bool:
    """Whether a JD order can carry everything in ``order``."""
    live = order.source == "live_room"
    kind = order.order_type
    return (order.status != OrderStatus.PARTIALLY_SHIPPED and order.buyer.tier in ("normal", "plus")
            and not order.buyer.tags and order.source in ("", "live_room")
            and (live or not order.source_detail) and kind != OrderType.GIFT
            and (kind in PRESALE or (kind == OrderType.LIVE_FLASH) == live))


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    """``order`` as one entry of ``orderInfoList``. The receiver is sent in clear (the
    API masks it for merchants without the privilege; ``encrypt`` is not used).
    A partly-shipped order is sent as WAIT_SELLER_STOCK_OUT."""
    r, a = order.receiver, order.amounts
    raw: dict = {
        "orderId": order.order_id, "venderId": order.shop, "orderType": "22",
        "orderState": STATUS[order.status],
        "orderStateRemark": "", "orderStartTime": order.created_at.strftime(FMT),
        "modified": order.modified_at.strftime(FMT), "pin": order.buyer.id,
        "orderTotalPrice": yuan(a.total_fen), "sellerDiscount": yuan(a.discount_fen),
        "freightPrice": yuan(a.freight_fen), "orderPayment": yuan(a.paid_fen),
        "orderSellerPrice": yuan(max(a.total_fen - a.discount_fen, 0)),
        "payType": "4-在线支付", "deliveryType": DELIVERY[order.delivery],
        "orderSource": "京东直播" if order.source == "live_room" else "移动端订单",
        "consigneeInfo": {
            "fullname": r.name, "mobile": r.phone, "telephone": "", "province": r.province,
            "city": r.city, "county": r.district, "town": r.street,
            "fullAddress": r.province + r.city + r.district + r.street + r.detail},
        "itemInfoList": [{"skuId": i.sku, "outerSkuId": i.outer_sku, "wareId": i.item_id or i.sku,
                          "skuName": i.sku, "jdPrice": yuan(i.price_fen),
                          "itemTotal": str(i.quantity), "giftPoint": "0"}
                         for i in order.items],
    }
    if order.paid_at:
        raw["paymentConfirmTime"] = order.paid_at.strftime(FMT)
    if order.buyer.tier == "plus":
        raw["isPlusMember"] = "1"
    if order.order_type in PRESALE:
        raw["preSale"] = {"stage": "final" if order.order_type == OrderType.PRESALE_FINAL
                          else "deposit"}
    if order.source == "live_room":
        raw["liveRoomId"] = order.source_detail
    if order.warehouse_hint:
        raw["storeId"] = order.warehouse_hint
    return raw


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    """The response envelope around ``raws``. JD says neither the page nor whether more
    follow: the client knows from ``orderTotal`` and what it asked for."""
    return {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": True, "code": "0", "chineseErr": "", "englishErr": ""},
        "orderTotal": total, "orderInfoList": raws}}}


def error(code: int | str, message: str, sub_code: str = "") -> dict:
    return {"error_response": {"code": str(code), "zh_desc": message, "en_desc": message}}


def throttled() -> dict:
    return error(67, "api call limit reached, try later")
