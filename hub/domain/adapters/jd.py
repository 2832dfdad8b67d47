"""JD POP orders, as the order search API (``jingdong.pop.order.search``) returns them.

Assumptions where the public docs leave room (the emulator follows the same):
- Money (``orderTotalPrice`` goods total, ``sellerDiscount``, ``freightPrice``,
  ``orderPayment`` paid) are yuan decimal strings.
- Presale orders carry ``preSale`` {"stage": "deposit" | "final"}; live-stream
  orders carry ``liveRoomId``; neither is in every API version.
- The search API does not say whether the buyer is a PLUS member; when the order
  has ``isPlusMember`` "1" the tier is ``plus``, else the CRM fills it in.
- ``deliveryType`` "同城" (or "same_city") is same-city, "次日达"/"express" express.
- ``consigneeInfo.county`` is the district, ``town`` the street.
"""

from __future__ import annotations

from typing import Any

from hub.domain.adapters.common import (
    MarketplaceError,
    Page,
    ParseError,
    fen,
    guarded,
    integer,
    listing,
    local_time,
    make_item,
    make_order,
    obj,
    split_page,
    text,
)
from hub.domain.order import Channel, DeliveryService, Order, OrderStatus, OrderType

RESPONSE = "jingdong_pop_order_search_responce"  # sic: JD spells it so
STATUS = {
    "WAIT_SELLER_STOCK_OUT": OrderStatus.PAID, "WAIT_SELLER_DELIVERY": OrderStatus.PAID,
    "POP_ORDER_PAUSE": OrderStatus.PAID, "LOCKED": OrderStatus.PAID,
    "WAIT_SEND_CODE": OrderStatus.PAID, "NOT_PAY": OrderStatus.UNPAID,
    "WAIT_GOODS_RECEIVE_CONFIRM": OrderStatus.SHIPPED, "FINISHED_L": OrderStatus.FINISHED,
    "TRADE_CANCELED": OrderStatus.CANCELLED,
}
DELIVERY = {"同城": DeliveryService.SAME_CITY, "same_city": DeliveryService.SAME_CITY,
            "次日达": DeliveryService.EXPRESS, "express": DeliveryService.EXPRESS}
THROTTLE_CODES = ("67", "68", "69", "70")


def _parse(raw: Any, shop: str = "") -> Order:
    order = obj(raw, "")
    order_id = text(order, "orderId", "")
    status = STATUS.get(text(order, "orderState", ""))
    if status is None:
        raise ParseError("orderState", f"unknown state {order.get('orderState')!r:.40}", order_id)
    items = []
    for i, line in enumerate(listing(order.get("itemInfoList"), "itemInfoList")):
        path = f"itemInfoList[{i}]."
        line = obj(line, path.rstrip("."))
        items.append(make_item(text(line, "skuId", path),
                               text(line, "outerSkuId", path, required=False),
                               integer(line, "itemTotal", path, minimum=1),
                               fen(line, "jdPrice", path), path + "itemTotal"))
    consignee = obj(order.get("consigneeInfo"), "consigneeInfo")
    c = "consigneeInfo."
    presale = order.get("preSale")
    live_room = text(order, "liveRoomId", "", required=False)
    if isinstance(presale, dict):
        kind = OrderType.PRESALE_FINAL if presale.get("stage") == "final" \
            else OrderType.PRESALE_DEPOSIT
    else:
        kind = OrderType.LIVE_FLASH if live_room else OrderType.NORMAL
    return make_order(
        channel=Channel.JD, shop=shop or text(order, "venderId", "", required=False),
        order_id=order_id, status=status,
        created_at=local_time(order, "orderStartTime", ""),
        paid_at=local_time(order, "paymentConfirmTime", "", required=False),
        modified_at=local_time(order, "modified", ""),
        buyer={"id": text(order, "pin", ""),
               "tier": "plus" if str(order.get("isPlusMember")) == "1" else "normal",
               "tags": ()},
        receiver={
            "name": text(consignee, "fullname", c, required=False),
            "phone": text(consignee, "mobile", c, required=False)
            or text(consignee, "telephone", c, required=False),
            "province": text(consignee, "province", c, required=False),
            "city": text(consignee, "city", c, required=False),
            "district": text(consignee, "county", c, required=False),
            "street": text(consignee, "town", c, required=False),
            "detail": text(consignee, "fullAddress", c, required=False),
        },
        items=items,
        amounts={"total_fen": fen(order, "orderTotalPrice", ""),
                 "discount_fen": fen(order, "sellerDiscount", "", default="0"),
                 "freight_fen": fen(order, "freightPrice", "", default="0"),
                 "paid_fen": fen(order, "orderPayment", "", default="0")},
        order_type=kind,
        source="live_room" if live_room else "",
        source_detail=live_room,
        delivery=DELIVERY.get(str(order.get("deliveryType") or ""), DeliveryService.STANDARD),
        warehouse_hint=text(order, "storeId", "", required=False),
    )


def parse_order(raw: Any, shop: str = "") -> Order:
    """One order object -> ``Order``, or ``ParseError`` naming the field."""
    return guarded(_parse, raw, shop)


def parse_page(payload: Any, shop: str = "") -> Page:
    """A whole response (or its error envelope, raised as ``MarketplaceError``)."""
    envelope = obj(payload, "")
    if "error_response" in envelope:
        err = obj(envelope["error_response"], "error_response")
        code = str(err.get("code") or "")
        raise MarketplaceError(code, str(err.get("en_desc") or err.get("zh_desc") or ""),
                               throttled=code in THROTTLE_CODES, retryable=code in ("1", "66"))
    body = obj(envelope.get(RESPONSE), RESPONSE)
    result = obj(body.get("searchorderinfo_result"), f"{RESPONSE}.searchorderinfo_result")
    api = result.get("apiResult") or {}
    if isinstance(api, dict) and api.get("success") is False:
        raise MarketplaceError(str(api.get("code") or ""),
                               str(api.get("englishErr") or api.get("chineseErr") or ""))
    records = listing(result.get("orderInfoList"), "orderInfoList", required=False)
    orders, bad = split_page(records, _parse, shop)
    total = result.get("orderTotal")
    total = total if isinstance(total, int) else None
    page_no, size = result.get("page"), result.get("pageSize")
    has_next = bool(result.get("hasNext")) if "hasNext" in result else (
        total is not None and isinstance(page_no, int) and isinstance(size, int)
        and page_no * size < total)
    return Page(orders, bad, has_next, total)
