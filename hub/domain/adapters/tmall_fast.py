"""Tmall's typed fast path (see ``fast_path``): a trades page's bytes -> ``Page``.

Every scalar field is decoded as any JSON value with ``None`` when it is missing, so
``trade.x`` means exactly what ``trade.get("x")`` means to ``tmall._parse``; the code
below is that function's, over attributes. Whatever it would not take as it is (an
error, a conversion) sends the page the ordinary way.
"""

from __future__ import annotations

from typing import Any

from hub.domain.adapters import tmall
from hub.domain.adapters.common import (
    _MOMENTS,
    AMOUNTS,
    ITEMS,
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
    BIG,
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
    num_iid: _A = None
    sku_id: _A = None
    outer_sku_id: _A = None
    num: _A = None
    price: _A = None
    outer_iid: _A = None


class Lines(Struct):
    order: list[Line] | None = None


class Trade(Struct):
    tid: _A = None
    tid_str: _A = None
    status: _A = None
    seller_nick: _A = None
    created: _A = None
    modified: _A = None
    buyer_open_uid: _A = None
    buyer_nick: _A = None
    receiver_name: _A = None
    receiver_mobile: _A = None
    receiver_state: _A = None
    receiver_city: _A = None
    receiver_district: _A = None
    receiver_town: _A = None
    receiver_address: _A = None
    total_fee: _A = None
    discount_fee: _A = None
    post_fee: _A = None
    payment: _A = None
    type: _A = None
    shipping_type: _A = None
    orders: Lines | None = None
    pay_time: _A = None
    trade_from: _A = None
    live_room_id: _A = None
    step_trade_status: _A = None
    step_paid_fee: _A = None
    is_gift: _A = None
    tcps_code: _A = None
    rt_omni_store_id: _A = None
    receiver_phone: _A = None


class Trades(Struct):
    trade: list[Trade] | None = None


class Body(Struct):
    total_results: _A = None
    has_next: _A = None
    trades: Trades | None = None


class Envelope(Struct):
    trades_sold_increment_get_response: Body | None = None
    error_response: _A = UNSET


_MOMENT = _MOMENTS.get  # a time string seen before (any other value: None or TypeError)
_STR, _INT = str, int
_EXPRESS_SHIPPING = tmall.EXPRESS_SHIPPING
_FINAL_PAID = tmall.FINAL_PAID
_STATUS = tmall.STATUS
_LIVE_FROM = tmall._LIVE_FROM
_ORDER = tmall.Order
_STANDARD, _EXPRESS, _SAME_CITY = tmall._STANDARD, tmall._EXPRESS, tmall._SAME_CITY
_NORMAL, _LIVE, _DEPOSIT, _FINAL, _GIFT = (tmall._NORMAL, tmall._LIVE, tmall._DEPOSIT,
                                           tmall._FINAL, tmall._GIFT)
_TMALL = tmall._TMALL


def _items(trade: Trade) -> tuple:
    lines = trade.orders.order  # type: ignore[union-attr]  (None raises: irregular)
    if not lines:
        raise Irregular
    out = []
    for line in lines:
        sku = line.sku_id
        if sku.__class__ is not _STR or not sku:
            raise Irregular
        item_id = line.num_iid
        if item_id.__class__ is not _STR:
            item_id = ident(item_id)
        outer = line.outer_sku_id
        if outer.__class__ is not _STR or not outer:
            outer = text(outer) or ident(line.outer_iid)
        num = line.num
        if num.__class__ is not _INT or not 0 < num < BIG:
            raise Irregular
        price = line.price
        if price.__class__ is not _STR:
            raise Irregular
        amount = cached_fen(price)
        key = (sku, outer, num, to_fen(price, "price") if amount is None else amount, item_id)
        out.append(ITEMS.get(key) or ITEMS.make(key))
    return tuple(out)


def _order(t: Trade, shop: str) -> Order:
    tid = t.tid_str
    if tid.__class__ is not _STR or not tid:
        raise Irregular
    status = t.status
    status = _STATUS.get(status) if status.__class__ is _STR else None
    if status is None:
        raise Irregular
    items = _items(t)
    step = t.type == "step"
    final = step and t.step_trade_status == _FINAL_PAID
    paid = t.step_paid_fee if step and not final else t.payment
    if paid.__class__ is _STR:
        amount = cached_fen(paid)
        paid = fen(paid, "payment") if amount is None else amount
    else:
        paid = fen(paid, "payment")
    source = t.trade_from or ""
    if source.__class__ is not _STR:
        raise Irregular
    live = _LIVE_FROM.get(source)
    if live is None:
        live = tmall._live(source)
    if step:
        order_type = _FINAL if final else _DEPOSIT
    elif t.is_gift is True:
        order_type = _GIFT
    else:
        order_type = _LIVE if live else _NORMAL
    if t.tcps_code:
        delivery = _SAME_CITY
    else:
        delivery = _EXPRESS if t.shipping_type in _EXPRESS_SHIPPING else _STANDARD
    buyer_id = t.buyer_open_uid
    if buyer_id.__class__ is not _STR or not buyer_id:
        buyer_id = t.buyer_nick
        if buyer_id.__class__ is not _STR or not buyer_id:
            raise Irregular
    total = t.total_fee
    if total.__class__ is not _STR:
        raise Irregular
    amount = cached_fen(total)
    money = (to_fen(total, "total_fee") if amount is None else amount,
             fen(t.discount_fee, "discount_fee"), fen(t.post_fee, "post_fee"), paid)
    receiver = (t.receiver_name or "", t.receiver_mobile or t.receiver_phone or "",
                t.receiver_state or "", t.receiver_city or "", t.receiver_district or "",
                t.receiver_town or "", t.receiver_address or "")
    "".join(receiver)  # every part a string, else TypeError: irregular
    return build(_ORDER, {
        "channel": _TMALL, "shop": shop or text(t.seller_nick or ""),
        "order_id": tid, "status": status,
        "created_at": _MOMENT(t.created) or local_time(t.created, "created"),
        "paid_at": _MOMENT(t.pay_time) or opt_local_time(t.pay_time, "pay_time"),
        "modified_at": _MOMENT(t.modified) or local_time(t.modified, "modified"),
        "buyer": new_buyer(buyer_id, "normal", ()), "receiver": new_receiver(receiver),
        "items": items, "amounts": AMOUNTS.get(money) or AMOUNTS.make(money),
        "order_type": order_type, "source": "live_room" if live else source.lower(),
        "source_detail": ident(t.live_room_id) if live else "",
        "delivery": delivery, "warehouse_hint": text(t.rt_omni_store_id or "")})


def _id(t: Trade) -> Any:
    return t.tid_str


def _shop(t: Trade) -> Any:
    nick = t.seller_nick or ""
    return nick if nick.__class__ is _STR else None


def _version(t: Trade) -> Any:
    return _MOMENT(t.modified)


def convert(envelope: Envelope, shop: str = "", *, page_no: int | None = None,
            page_size: int | None = None, known: Known | None = None) -> Page:
    body = envelope.trades_sold_increment_get_response
    if envelope.error_response is not UNSET or body is None:
        raise Irregular
    trades = body.trades
    records, skipped = sift([] if trades is None else trades.trade or [], known, shop, _id,
                            _shop, _version)
    page = Page([_order(t, shop) for t in records], known=skipped)
    page.total = total_of(body.total_results)
    more = body.has_next
    page.has_next = more in (True, "true") if more is not None \
        else tmall.has_next(page.total, page_no, page_size, 1)
    return page


decode = decoder(Envelope, convert)
