"""JD's typed fast path (see ``fast_path``): an order search page's bytes -> ``Page``.

Every scalar field is decoded as any JSON value with ``None`` when it is missing, so
``order.x`` means exactly what ``order.get("x")`` means to ``jd._parse``; the code below
is that function's, over attributes. Whatever it would not take as it is (an error, a
conversion) sends the page the ordinary way.
"""

from __future__ import annotations

from typing import Any

from hub.domain.adapters import jd
from hub.domain.adapters.common import (
    _MOMENTS,
    AMOUNTS,
    ITEMS,
    SMALL_COUNTS,
    Page,
    build,
    cached_fen,
    local_time,
    new_buyer,
    new_receiver,
    opt_local_time,
    to_fen,
    total_of,
)
from hub.domain.adapters.fast_path import (
    UNSET,
    Irregular,
    Known,
    Struct,
    decoder,
    fen,
    ident,
    sift,
    text,
)
from hub.domain.order import Order

_A = Any  # a field of any JSON value, None when missing


class Line(Struct):
    skuId: _A = None
    wareId: _A = None
    outerSkuId: _A = None
    jdPrice: _A = None
    itemTotal: _A = None


class Consignee(Struct):
    fullname: _A = None
    mobile: _A = None
    telephone: _A = None
    province: _A = None
    city: _A = None
    county: _A = None
    town: _A = None
    fullAddress: _A = None


class JdOrder(Struct):
    orderId: _A = None
    venderId: _A = None
    orderState: _A = None
    orderStartTime: _A = None
    modified: _A = None
    pin: _A = None
    orderTotalPrice: _A = None
    sellerDiscount: _A = None
    freightPrice: _A = None
    orderPayment: _A = None
    deliveryType: _A = None
    orderSource: _A = None
    consigneeInfo: Consignee | None = None
    itemInfoList: list[Line] | None = None
    paymentConfirmTime: _A = None
    preSale: _A = None
    isPlusMember: _A = None
    storeId: _A = None
    liveRoomId: _A = None


class Result(Struct):
    apiResult: _A = None
    orderTotal: _A = None
    orderInfoList: list[JdOrder] | None = None


class Body(Struct):
    searchorderinfo_result: Result | None = None


class Envelope(Struct):
    jingdong_pop_order_search_responce: Body | None = None
    error_response: _A = UNSET


_MOMENT = _MOMENTS.get  # a time string seen before (any other value: None or TypeError)
_STR, _DICT = str, dict
_STATUS = jd.STATUS
_DELIVERY = jd._DELIVERY
_ORDER = jd.Order
_STANDARD = jd._STANDARD
_NORMAL, _LIVE, _DEPOSIT, _FINAL = jd._NORMAL, jd._LIVE, jd._DEPOSIT, jd._FINAL
_JD = jd._JD
_COUNTS = SMALL_COUNTS.get


def _items(order: JdOrder) -> tuple:
    lines = order.itemInfoList
    if not lines:
        raise Irregular
    out = []
    for line in lines:
        sku = line.skuId
        if sku.__class__ is not _STR or not sku:
            raise Irregular
        item_id = line.wareId
        if item_id.__class__ is not _STR:
            item_id = ident(item_id)
        outer = text(line.outerSkuId or "")
        num = line.itemTotal
        num = _COUNTS(num) if num.__class__ is _STR else None
        price = line.jdPrice
        if num is None or price.__class__ is not _STR:
            raise Irregular
        amount = cached_fen(price)
        key = (sku, outer, num, to_fen(price, "jdPrice") if amount is None else amount,
               item_id)
        out.append(ITEMS.get(key) or ITEMS.make(key))
    return tuple(out)


def _receiver(c: Consignee):
    key = (c.fullname or "", c.mobile or c.telephone or "", c.province or "", c.city or "",
           c.county or "", c.town or "", c.fullAddress or "")
    "".join(key)  # every part a string, else TypeError: irregular
    name, phone, province, city, district, street, full = key
    prefix = province + city + district + street
    detail = full[len(prefix):] if full.startswith(prefix) \
        else jd._strip(full, province, city, district, street)
    return new_receiver((name, phone, province, city, district, street, detail))


def _order(o: JdOrder, shop: str) -> Order:
    order_id = o.orderId
    if order_id.__class__ is not _STR or not order_id:
        raise Irregular
    status = o.orderState
    status = _STATUS.get(status) if status.__class__ is _STR else None
    if status is None:
        raise Irregular
    items = _items(o)
    source = o.orderSource
    live = source.__class__ is _STR and "直播" in source
    presale = o.preSale
    if presale.__class__ is _DICT and presale:
        order_type = _FINAL if presale.get("stage") == "final" else _DEPOSIT
    else:
        order_type = _LIVE if live else _NORMAL
    asked = o.deliveryType
    delivery = _DELIVERY.get(asked) if asked.__class__ is _STR else _STANDARD
    if delivery is None:
        delivery = jd._delivery(asked)
    pin = o.pin
    if pin.__class__ is not _STR or not pin:
        raise Irregular
    plus = o.isPlusMember
    total = o.orderTotalPrice
    if total.__class__ is not _STR:
        raise Irregular
    amount = cached_fen(total)
    total = to_fen(total, "orderTotalPrice") if amount is None else amount
    paid = o.orderPayment
    amount = cached_fen(paid) if paid.__class__ is _STR else None
    money = (total, fen(o.sellerDiscount, "sellerDiscount"),
             fen(o.freightPrice, "freightPrice"),
             fen(paid, "orderPayment") if amount is None else amount)
    consignee = o.consigneeInfo
    if consignee is None:
        raise Irregular
    return build(_ORDER, {
        "channel": _JD, "shop": shop or text(o.venderId or ""),
        "order_id": order_id, "status": status,
        "created_at": _MOMENT(o.orderStartTime) or local_time(o.orderStartTime,
                                                              "orderStartTime"),
        "paid_at": _MOMENT(o.paymentConfirmTime) or opt_local_time(o.paymentConfirmTime,
                                                                   "paymentConfirmTime"),
        "modified_at": _MOMENT(o.modified) or local_time(o.modified, "modified"),
        "buyer": new_buyer(pin, "plus" if plus == "1" or plus == 1 else "normal", ()),
        "receiver": _receiver(consignee), "items": items,
        "amounts": AMOUNTS.get(money) or AMOUNTS.make(money), "order_type": order_type,
        "source": "live_room" if live else "",
        "source_detail": ident(o.liveRoomId) if live else "",
        "delivery": delivery, "warehouse_hint": text(o.storeId or "")})


def _id(o: JdOrder) -> Any:
    return o.orderId


def _shop(o: JdOrder) -> Any:
    vender = o.venderId or ""
    return vender if vender.__class__ is _STR else None


def _version(o: JdOrder) -> Any:
    return _MOMENT(o.modified)


def convert(envelope: Envelope, shop: str = "", *, page_no: int | None = None,
            page_size: int | None = None, known: Known | None = None) -> Page:
    body = envelope.jingdong_pop_order_search_responce
    result = body.searchorderinfo_result if body is not None else None
    if envelope.error_response is not UNSET or result is None:
        raise Irregular
    api = result.apiResult
    if api.__class__ is _DICT and api.get("success") in (False, "false"):
        raise Irregular
    records, skipped = sift(result.orderInfoList or [], known, shop, _id, _shop, _version)
    page = Page([_order(o, shop) for o in records], known=skipped)
    page.total = total_of(result.orderTotal)
    page.has_next = jd.has_next(page.total, page_no, page_size, 1)
    return page


decode = decoder(Envelope, convert)
