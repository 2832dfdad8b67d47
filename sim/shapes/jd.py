"""JD POP orders as ``jingdong.pop.order.search`` returns them."""

from __future__ import annotations

from collections.abc import Callable

from hub.domain.order import DeliveryService, Order, OrderStatus, OrderType

STATUS = {OrderStatus.UNPAID: "NOT_PAY", OrderStatus.PAID: "WAIT_SELLER_STOCK_OUT",
          OrderStatus.PARTIALLY_SHIPPED: "WAIT_SELLER_STOCK_OUT",
          OrderStatus.SHIPPED: "WAIT_GOODS_RECEIVE_CONFIRM",
          OrderStatus.FINISHED: "FINISHED_L", OrderStatus.CANCELLED: "TRADE_CANCELED"}
DELIVERY = {DeliveryService.SAME_CITY: "同城", DeliveryService.EXPRESS: "次日达"}
FMT = "%Y-%m-%d %H:%M:%S"


def to_raw(order: Order, *, encrypt: Callable[[str], str] | None = None) -> dict:
    from sim.shapes import yuan

    r, a = order.receiver, order.amounts
    raw: dict = {
        "orderId": order.order_id, "venderId": order.shop, "orderType": "22",
        "orderState": STATUS[order.status], "orderStartTime": order.created_at.strftime(FMT),
        "modified": order.modified_at.strftime(FMT), "pin": order.buyer.id,
        "orderTotalPrice": yuan(a.total_fen), "sellerDiscount": yuan(a.discount_fen),
        "freightPrice": yuan(a.freight_fen), "orderPayment": yuan(a.paid_fen),
        "orderSellerPrice": yuan(a.total_fen - a.discount_fen),
        "consigneeInfo": {"fullname": r.name, "mobile": r.phone, "telephone": "",
                          "province": r.province, "city": r.city, "county": r.district,
                          "town": r.street, "fullAddress": r.detail},
        "itemInfoList": [{"skuId": i.sku, "outerSkuId": i.outer_sku, "wareId": i.sku,
                          "skuName": i.sku, "jdPrice": yuan(i.price_fen),
                          "itemTotal": str(i.quantity)} for i in order.items],
    }
    if order.paid_at:
        raw["paymentConfirmTime"] = order.paid_at.strftime(FMT)
    if order.buyer.tier == "plus":
        raw["isPlusMember"] = "1"
    if order.order_type in (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL):
        raw["preSale"] = {"stage": "final" if order.order_type == OrderType.PRESALE_FINAL
                          else "deposit"}
    if order.source == "live_room":
        raw["liveRoomId"] = order.source_detail or "0"
    if order.delivery in DELIVERY:
        raw["deliveryType"] = DELIVERY[order.delivery]
    if order.warehouse_hint:
        raw["storeId"] = order.warehouse_hint
    return raw


def page(raws: list[dict], *, page_no: int, page_size: int, total: int, has_next: bool) -> dict:
    return {"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": True, "code": "0", "chineseErr": "", "englishErr": ""},
        "orderTotal": total, "page": page_no, "pageSize": page_size, "hasNext": has_next,
        "orderInfoList": raws}}}


def error(code: int | str, message: str, sub_code: str = "") -> dict:
    return {"error_response": {"code": str(code), "zh_desc": message, "en_desc": message}}


def throttled() -> dict:
    return error(67, "api call limit reached, try later")
