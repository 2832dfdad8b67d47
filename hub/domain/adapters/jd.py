"""JD POP orders, as the order search API (``jingdong.pop.order.search``) returns them.

Response: ``{"jingdong_pop_order_search_responce": {"searchorderinfo_result": {"apiResult":
{"success", "code", "chineseErr", "englishErr"}, "orderTotal", "orderInfoList": [...]}}}``
("responce" sic); gateway error: ``{"error_response": {"code", "zh_desc", "en_desc"}}``.

Where the docs leave room, this is what the adapter assumes (``sim.shapes.jd`` follows):

- Money is yuan decimal strings: ``orderTotalPrice`` goods total, ``sellerDiscount``
  discount, ``freightPrice`` freight, ``orderPayment`` paid.
- ``orderState``: WAIT_SELLER_STOCK_OUT, WAIT_SELLER_DELIVERY, WAIT_SEND_CODE,
  POP_ORDER_PAUSE and LOCKED (paid, locked by an after-sale request) are paid;
  WAIT_GOODS_RECEIVE_CONFIRM shipped; FINISHED_L finished; TRADE_CANCELED cancelled;
  NOT_PAY / WAIT_PAY unpaid. JD has no partly-shipped state (it splits the order).
- Items: ``itemInfoList[]`` with ``skuId``, the item (ware) id ``wareId``, the outer
  code ``outerSkuId`` (a line needs one of the three), unit price ``jdPrice``, quantity
  ``itemTotal`` (a digit string).
- Receiver: ``consigneeInfo`` (``fullname``, ``mobile`` else ``telephone``, ``province``,
  ``city``, ``county`` = district, ``town`` = street). ``fullAddress`` is the whole
  address; the detail is what is left after the province, city, county and town names
  are taken off its front.
- The search API does not say whether the buyer is a PLUS member. Assumed: ``isPlusMember``
  "1" makes the tier ``plus``; otherwise ``normal`` and the CRM enrichment fills it in.
- Presale: assumed ``preSale`` {"stage": "deposit" | "final"} (not in every API version).
- Live stream: ``orderSource`` containing 直播 marks a live room order; the room id is
  assumed in ``liveRoomId``. A live order that is not a presale is a live flash sale.
- Delivery: ``deliveryType`` is free text; containing 同城 is same-city, 京准达 / 次日 /
  211 express, anything else (任意时间, 只工作日送货, ...) standard.
- ``storeId`` is the warehouse hint. ``venderId`` is the shop when none is given.
- Gateway error codes: assumed 67-70 (call-rate limits) are throttling; 1 (service
  unavailable) and 66 are retryable. ``apiResult.success`` false is an error too.

>>> from hub.domain.adapters.jd import parse_order
>>> parse_order({"orderId": "1", "orderState": "TRADE_CANCELED", "itemInfoList": []})
Traceback (most recent call last):
...
hub.domain.adapters.common.ParseError: itemInfoList: empty: an order needs at least one item
"""

from __future__ import annotations

from typing import Any

from hub.domain.adapters.common import (
    AMOUNTS,
    ITEMS,
    SMALL_COUNTS,
    MarketplaceError,
    Page,
    ParseError,
    as_list,
    as_object,
    cached_fen,
    count,
    guarded,
    has_next,
    line_named,
    local_time,
    new_buyer,
    new_receiver,
    opt_fen,
    opt_local_time,
    opt_text,
    order_of,
    split,
    text,
    to_fen,
    total_of,
)
from hub.domain.adapters.fast_path import Known, Typed, parse_typed
from hub.domain.order import Channel, DeliveryService, Order, OrderStatus, OrderType

RESPONSE = "jingdong_pop_order_search_responce"  # sic: JD spells it so
RESULT = "searchorderinfo_result"
ID_KEYS = ("orderId",)
STATUS = {
    "WAIT_SELLER_STOCK_OUT": OrderStatus.PAID, "WAIT_SELLER_DELIVERY": OrderStatus.PAID,
    "WAIT_SEND_CODE": OrderStatus.PAID, "POP_ORDER_PAUSE": OrderStatus.PAID,
    "LOCKED": OrderStatus.PAID, "NOT_PAY": OrderStatus.UNPAID, "WAIT_PAY": OrderStatus.UNPAID,
    "WAIT_GOODS_RECEIVE_CONFIRM": OrderStatus.SHIPPED, "FINISHED_L": OrderStatus.FINISHED,
    "TRADE_CANCELED": OrderStatus.CANCELLED,
}
EXPRESS_MARKS = ("京准达", "次日", "211")
THROTTLE_CODES = ("67", "68", "69", "70")
RETRY_CODES = ("1", "66")
RECEIVER_KEYS = ("fullname", "mobile", "province", "city", "county", "town", "fullAddress")
_STANDARD, _EXPRESS, _SAME_CITY = (DeliveryService.STANDARD, DeliveryService.EXPRESS,
                                   DeliveryService.SAME_CITY)
_NORMAL, _LIVE, _DEPOSIT, _FINAL = (OrderType.NORMAL, OrderType.LIVE_FLASH,
                                    OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL)
_JD = Channel.JD


def _items(order: dict) -> tuple:
    lines = order.get("itemInfoList")
    if lines.__class__ is not list:
        lines = as_list(lines, "itemInfoList")
    if not lines:
        raise ParseError("itemInfoList", "empty: an order needs at least one item")
    out = []
    for index, line in enumerate(lines):
        try:
            if line.__class__ is not dict:
                line = as_object(line, "")
            get = line.get
            sku = get("skuId")
            if sku.__class__ is not str:
                sku = opt_text(sku, "skuId")
            item_id = get("wareId")
            if item_id.__class__ is not str:
                item_id = opt_text(item_id, "wareId")
            outer = get("outerSkuId") or ""
            if outer.__class__ is not str:
                outer = opt_text(outer, "outerSkuId")
            if not sku and not item_id and not outer:
                line_named(sku, item_id, outer, "skuId")
            num = get("itemTotal")
            num = SMALL_COUNTS.get(num) if num.__class__ is str else None
            if num is None:
                num = count(get("itemTotal"), "itemTotal", minimum=1)
            price = get("jdPrice")
            fen = cached_fen(price) if price.__class__ is str else None
            key = (sku, outer, num, to_fen(price, "jdPrice") if fen is None else fen, item_id)
            out.append(ITEMS.get(key) or ITEMS.make(key))
        except ParseError as exc:
            raise exc.within(f"itemInfoList[{index}]") from None
    return tuple(out)


def _strip(full: str, *names: str) -> str:
    for name in names:
        if name and full.startswith(name):
            full = full[len(name):]
    return full


def _receiver(value: Any):
    c = value if value.__class__ is dict else as_object(value, "consigneeInfo")
    get = c.get
    key = (get("fullname") or "", get("mobile") or get("telephone") or "",
           get("province") or "", get("city") or "", get("county") or "", get("town") or "",
           get("fullAddress") or "")
    try:
        "".join(key)  # every part a string (a falsy non-string counts as missing)
    except TypeError:
        field = RECEIVER_KEYS[[v.__class__ is str for v in key].index(False)]
        raise ParseError(f"consigneeInfo.{field}", "expected a string") from None
    name, phone, province, city, district, street, full = key
    prefix = province + city + district + street
    detail = full[len(prefix):] if full.startswith(prefix) \
        else _strip(full, province, city, district, street)
    key = (name, phone, province, city, district, street, detail)
    return new_receiver(key)


_DELIVERY: dict[str, DeliveryService] = {}


def _delivery(asked: str) -> DeliveryService:
    """The service a ``deliveryType`` text asks for (memoised: the texts are few)."""
    if "同城" in asked:
        service = _SAME_CITY
    else:
        service = _EXPRESS if any(mark in asked for mark in EXPRESS_MARKS) else _STANDARD
    if len(_DELIVERY) < 1000:
        _DELIVERY[asked] = service
    return service


def _parse(raw: Any, shop: str = "") -> Order:
    order = raw if raw.__class__ is dict else as_object(raw, "")
    get = order.get
    order_id = get("orderId")
    if order_id.__class__ is not str or not order_id:
        order_id = text(order_id, "orderId")
    status = get("orderState")
    status = STATUS.get(status) if status.__class__ is str else None
    if status is None:
        raise ParseError("orderState", f"unknown order state {get('orderState')!r:.40}")
    items = _items(order)
    source = get("orderSource")
    live = source.__class__ is str and "直播" in source
    presale = get("preSale")
    if presale.__class__ is dict and presale:
        order_type = _FINAL if presale.get("stage") == "final" else _DEPOSIT
    else:
        order_type = _LIVE if live else _NORMAL
    asked = get("deliveryType")
    delivery = _DELIVERY.get(asked) if asked.__class__ is str else _STANDARD
    if delivery is None:
        delivery = _delivery(asked)
    pin = get("pin")
    if pin.__class__ is not str or not pin:
        pin = text(pin, "pin")
    plus = get("isPlusMember")
    key = (pin, "plus" if plus == "1" or plus == 1 else "normal", ())
    total = get("orderTotalPrice")
    fen = cached_fen(total) if total.__class__ is str else None
    total = to_fen(total, "orderTotalPrice") if fen is None else fen
    paid = get("orderPayment")
    fen = cached_fen(paid) if paid.__class__ is str else None
    paid = opt_fen(paid, "orderPayment") if fen is None else fen
    money = (total, opt_fen(get("sellerDiscount"), "sellerDiscount"),
             opt_fen(get("freightPrice"), "freightPrice"), paid)
    shop = shop or get("venderId") or ""
    store = get("storeId") or ""
    return order_of({
        "channel": _JD, "shop": shop if shop.__class__ is str else opt_text(shop, "venderId"),
        "order_id": order_id, "status": status,
        "created_at": local_time(get("orderStartTime"), "orderStartTime"),
        "paid_at": opt_local_time(get("paymentConfirmTime"), "paymentConfirmTime"),
        "modified_at": local_time(get("modified"), "modified"),
        "buyer": new_buyer(*key),
        "receiver": _receiver(get("consigneeInfo")), "items": items,
        "amounts": AMOUNTS.get(money) or AMOUNTS.make(money), "order_type": order_type,
        "source": "live_room" if live else "",
        "source_detail": opt_text(get("liveRoomId"), "liveRoomId") if live else "",
        "delivery": delivery,
        "warehouse_hint": store if store.__class__ is str else opt_text(store, "storeId")})


def parse_order(raw: Any, shop: str = "") -> Order:
    """One order object -> ``Order``, or ``ParseError`` naming the field."""
    return guarded(_parse, raw, ID_KEYS, shop)


def raise_for_error(envelope: dict) -> None:
    """Raise ``MarketplaceError`` for the gateway's error envelope or a failed apiResult."""
    if "error_response" in envelope:
        err = envelope["error_response"]
        err = err if isinstance(err, dict) else {}
        code = str(err.get("code") or "")
        raise MarketplaceError(code, str(err.get("en_desc") or err.get("zh_desc") or ""),
                               retryable=code in RETRY_CODES, throttled=code in THROTTLE_CODES)
    body = envelope.get(RESPONSE)
    result = body.get(RESULT) if isinstance(body, dict) else None
    api = result.get("apiResult") if isinstance(result, dict) else None
    if isinstance(api, dict) and api.get("success") in (False, "false"):
        raise MarketplaceError(str(api.get("code") or ""),
                               str(api.get("englishErr") or api.get("chineseErr") or ""))


def parse_page(payload: Any, shop: str = "", *, page_no: int | None = None,
               page_size: int | None = None, known: Known | None = None) -> Page:
    """A whole response -> ``Page``; error envelopes raise ``MarketplaceError``, a
    malformed one ``ParseError``. JD does not say whether more pages follow:
    ``has_next`` comes from ``orderTotal`` and the ``page_no`` (from 1) / ``page_size``
    that were asked for (False when they are not given). ``known``
    ((shop, order id) -> the version the caller holds, or None): on the typed path, a record at
    a known version is not converted, only listed in ``Page.known``."""
    if payload.__class__ is Typed:
        return parse_typed(payload, parse_page, shop, page_no=page_no, page_size=page_size,
                           known=known)
    envelope = as_object(payload, "")
    raise_for_error(envelope)
    body = as_object(envelope.get(RESPONSE), RESPONSE)
    result = as_object(body.get(RESULT), f"{RESPONSE}.{RESULT}")
    records = as_list(result.get("orderInfoList") or [], f"{RESPONSE}.{RESULT}.orderInfoList")
    page = split(records, _parse, ID_KEYS, shop)
    page.total = total_of(result.get("orderTotal"))
    page.has_next = has_next(page.total, page_no, page_size, 1)
    return page


def decode(blob: bytes) -> Any:
    """A response page's JSON bytes for ``parse_page`` (and ``parse_any``): decoded into
    typed structs, the fast way, when it has the usual shape; else the plain JSON value."""
    from hub.domain.adapters.jd_fast import decode as typed  # it builds on this module

    return typed(blob)


def is_page(payload: Any) -> bool:
    return isinstance(payload, dict) and (RESPONSE in payload or "error_response" in payload)


def parse_any(payload: Any, shop: str = "") -> Page:
    """One order, a list of orders, or a whole response -> ``Page``."""
    if payload.__class__ is Typed:
        payload = payload.value()
    if is_page(payload):
        return parse_page(payload, shop)
    return split(payload if isinstance(payload, list) else [payload], _parse, ID_KEYS, shop)
