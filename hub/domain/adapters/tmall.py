"""Tmall / Taobao trades, as ``taobao.trades.sold.increment.get`` returns them.

Response: ``{"trades_sold_increment_get_response": {"total_results", "has_next",
"trades": {"trade": [...]}}}``; error: ``{"error_response": {"code", "msg", "sub_code",
"sub_msg", "request_id"}}``.

Field meanings are the documented Trade / Order structures; where the docs leave room,
this is what the adapter assumes (the emulator's shapes in ``sim.shapes.tmall`` follow):

- Money fields are yuan decimal strings: ``total_fee`` goods total (price x quantity),
  ``discount_fee`` discount, ``post_fee`` freight, ``payment`` paid; read to fen exactly.
- Presale: ``type == "step"`` with ``step_trade_status`` FRONT_PAID_FINAL_PAID is the
  final payment (paid = ``payment``); FRONT_PAID_FINAL_NOPAID / FRONT_NOPAID_FINAL_NOPAID
  is the deposit stage (paid = ``step_paid_fee``, the deposit).
- Live stream: the docs give no live-room marker (``trade_from`` lists WAP, HITAO, TOP,
  TAOBAO, JHS). Assumed: the token ``LIVE`` in ``trade_from`` (comma list) marks a live
  room order and ``live_room_id`` names the room. Otherwise ``trade_from`` lower-cased
  is the source. A live order that is not a presale is a live flash sale.
- ``is_gift`` true is a gift order.
- Delivery: a non-empty ``tcps_code`` (同城业务类型) is same-city; ``shipping_type``
  "25" (次日必达) or "ems" is express; anything else ("express", "free", "post", ...) standard.
- Buyer: ``buyer_open_uid``, else ``buyer_nick``; tier and tags come from the CRM later.
- Items: ``orders.order[]``; the SKU id is ``sku_id`` ("" when the item has no SKU),
  the item id ``num_iid``, the outer code ``outer_sku_id`` (else ``outer_iid``), unit
  price ``price``. A line needs one of them.
- ``receiver_town`` is the street; ``receiver_address`` the detail; the phone is
  ``receiver_mobile``, else ``receiver_phone``. ``rt_omni_store_id`` is the warehouse hint.
- Throttled: code 7 (App Call Limited) or sub_code ``accesscontrol.limited-by-*`` /
  ``isv.access-limited*``; retryable also: sub_code ``isp.*`` and code 10 (service
  currently unavailable) and 15 (remote service error).

>>> from hub.domain.adapters.tmall import parse_order
>>> parse_order({"tid": 1, "status": "x"}).status
Traceback (most recent call last):
...
hub.domain.adapters.common.ParseError: status: unknown trade status 'x'
"""

from __future__ import annotations

from typing import Any

from hub.domain.adapters.common import (
    AMOUNTS,
    ITEMS,
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

RESPONSE = "trades_sold_increment_get_response"
ID_KEYS = ("tid_str", "tid")
STATUS = {
    "TRADE_NO_CREATE_PAY": OrderStatus.UNPAID, "WAIT_BUYER_PAY": OrderStatus.UNPAID,
    "PAY_PENDING": OrderStatus.UNPAID, "WAIT_PRE_AUTH_CONFIRM": OrderStatus.UNPAID,
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID, "PAID_FORBID_CONSIGN": OrderStatus.PAID,
    "SELLER_CONSIGNED_PART": OrderStatus.PARTIALLY_SHIPPED,
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED, "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,
    "TRADE_FINISHED": OrderStatus.FINISHED, "TRADE_CLOSED": OrderStatus.CANCELLED,
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CANCELLED,
}
EXPRESS_SHIPPING = ("25", "ems")
FINAL_PAID = "FRONT_PAID_FINAL_PAID"
THROTTLE_SUB_CODES = ("accesscontrol.limited-by", "isv.access-limited")
RETRY_CODES = ("7", "10", "15")
RECEIVER_KEYS = ("receiver_name", "receiver_mobile", "receiver_state", "receiver_city",
                 "receiver_district", "receiver_town", "receiver_address")
_STANDARD, _EXPRESS, _SAME_CITY = (DeliveryService.STANDARD, DeliveryService.EXPRESS,
                                   DeliveryService.SAME_CITY)
_NORMAL, _LIVE, _DEPOSIT, _FINAL, _GIFT = (
    OrderType.NORMAL, OrderType.LIVE_FLASH, OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL,
    OrderType.GIFT)
_TMALL = Channel.TMALL


def _items(trade: dict) -> tuple:
    orders = trade.get("orders")
    if orders.__class__ is not dict:
        orders = as_object(orders, "orders")
    lines = orders.get("order")
    if lines.__class__ is not list:
        lines = as_list(lines, "orders.order")
    if not lines:
        raise ParseError("orders.order", "empty: an order needs at least one item")
    out = []
    for index, line in enumerate(lines):
        try:
            if line.__class__ is not dict:
                line = as_object(line, "")
            get = line.get
            sku = get("sku_id")
            if sku.__class__ is not str:
                sku = opt_text(sku, "sku_id")
            item_id = get("num_iid")
            if item_id.__class__ is not str:
                item_id = opt_text(item_id, "num_iid")
            outer = get("outer_sku_id")
            if outer.__class__ is not str or not outer:
                outer = opt_text(outer, "outer_sku_id") or opt_text(get("outer_iid"), "outer_iid")
            if not sku and not item_id and not outer:
                line_named(sku, item_id, outer, "sku_id")
            num = get("num")
            if num.__class__ is not int or num < 1:
                num = count(num, "num", minimum=1)
            price = get("price")
            fen = cached_fen(price) if price.__class__ is str else None
            key = (sku, outer, num, to_fen(price, "price") if fen is None else fen, item_id)
            out.append(ITEMS.get(key) or ITEMS.make(key))
        except ParseError as exc:
            raise exc.within(f"orders.order[{index}]") from None
    return tuple(out)


def _receiver(get: Any) -> Any:
    key = (get("receiver_name") or "", get("receiver_mobile") or get("receiver_phone") or "",
           get("receiver_state") or "", get("receiver_city") or "",
           get("receiver_district") or "", get("receiver_town") or "",
           get("receiver_address") or "")
    try:
        "".join(key)  # every part a string (a falsy non-string counts as missing)
    except TypeError:
        field = RECEIVER_KEYS[[v.__class__ is str for v in key].index(False)]
        raise ParseError(field, "expected a string") from None
    return new_receiver(key)


_LIVE_FROM: dict[str, bool] = {"": False}


def _live(trade_from: str) -> bool:
    """Whether ``trade_from`` (a comma list) has the live marker (memoised)."""
    live = "LIVE" in trade_from.upper().split(",")
    if len(_LIVE_FROM) < 1000:
        _LIVE_FROM[trade_from] = live
    return live


def _parse(raw: Any, shop: str = "") -> Order:
    trade = raw if raw.__class__ is dict else as_object(raw, "")
    get = trade.get
    tid = get("tid_str")
    if tid.__class__ is not str or not tid:
        tid = text(get("tid"), "tid")
    status = get("status")
    status = STATUS.get(status) if status.__class__ is str else None
    if status is None:
        raise ParseError("status", f"unknown trade status {get('status')!r:.40}")
    items = _items(trade)
    step = get("type") == "step"
    final = step and get("step_trade_status") == FINAL_PAID
    paid = get("step_paid_fee" if step and not final else "payment")
    fen = cached_fen(paid) if paid.__class__ is str else None
    paid = opt_fen(paid, "step_paid_fee" if step and not final else "payment") \
        if fen is None else fen
    source = get("trade_from") or ""
    if source.__class__ is not str:
        source = opt_text(source, "trade_from")
    live = _LIVE_FROM.get(source)
    if live is None:
        live = _live(source)
    if step:
        order_type = _FINAL if final else _DEPOSIT
    elif get("is_gift") is True:
        order_type = _GIFT
    else:
        order_type = _LIVE if live else _NORMAL
    if get("tcps_code"):
        delivery = _SAME_CITY
    else:
        delivery = _EXPRESS if get("shipping_type") in EXPRESS_SHIPPING else _STANDARD
    buyer_id = get("buyer_open_uid")
    if buyer_id.__class__ is not str or not buyer_id:
        buyer_id = text(get("buyer_nick"), "buyer_nick")
    key = (buyer_id, "normal", ())
    total = get("total_fee")
    fen = cached_fen(total) if total.__class__ is str else None
    money = (to_fen(total, "total_fee") if fen is None else fen,
             opt_fen(get("discount_fee"), "discount_fee"), opt_fen(get("post_fee"), "post_fee"),
             paid)
    shop = shop or get("seller_nick") or ""
    store = get("rt_omni_store_id") or ""
    return order_of({
        "channel": _TMALL,
        "shop": shop if shop.__class__ is str else opt_text(shop, "seller_nick"),
        "order_id": tid, "status": status,
        "created_at": local_time(get("created"), "created"),
        "paid_at": opt_local_time(get("pay_time"), "pay_time"),
        "modified_at": local_time(get("modified"), "modified"),
        "buyer": new_buyer(*key), "receiver": _receiver(get),
        "items": items, "amounts": AMOUNTS.get(money) or AMOUNTS.make(money),
        "order_type": order_type, "source": "live_room" if live else source.lower(),
        "source_detail": opt_text(get("live_room_id"), "live_room_id") if live else "",
        "delivery": delivery,
        "warehouse_hint": store if store.__class__ is str
        else opt_text(store, "rt_omni_store_id")})


def parse_order(raw: Any, shop: str = "") -> Order:
    """One trade object -> ``Order``, or ``ParseError`` naming the field."""
    return guarded(_parse, raw, ID_KEYS, shop)


def raise_for_error(envelope: dict) -> None:
    """Raise ``MarketplaceError`` when ``envelope`` is Taobao's error envelope."""
    if "error_response" not in envelope:
        return
    err = envelope["error_response"]
    err = err if isinstance(err, dict) else {}
    code, sub = str(err.get("code") or ""), str(err.get("sub_code") or "")
    throttled = code == "7" or sub.startswith(THROTTLE_SUB_CODES)
    raise MarketplaceError(code, str(err.get("sub_msg") or err.get("msg") or ""), sub,
                           retryable=code in RETRY_CODES or sub.startswith("isp."),
                           throttled=throttled)


def parse_page(payload: Any, shop: str = "", *, page_no: int | None = None,
               page_size: int | None = None, known: Known | None = None) -> Page:
    """A whole response -> ``Page``; the error envelope raises ``MarketplaceError``, a
    malformed envelope ``ParseError``. ``page_no`` (from 1) and ``page_size`` are used
    for ``has_next`` only when the response has no ``has_next``. ``known``
    ((shop, order id) -> the version the caller holds, or None): on the typed path, a record at
    a known version is not converted, only listed in ``Page.known``."""
    if payload.__class__ is Typed:
        return parse_typed(payload, parse_page, shop, page_no=page_no, page_size=page_size,
                           known=known)
    envelope = as_object(payload, "")
    raise_for_error(envelope)
    body = as_object(envelope.get(RESPONSE), RESPONSE)
    trades = body.get("trades")
    records = [] if trades is None else as_list(
        as_object(trades, f"{RESPONSE}.trades").get("trade") or [], f"{RESPONSE}.trades.trade")
    page = split(records, _parse, ID_KEYS, shop)
    page.total = total_of(body.get("total_results"))
    more = body.get("has_next")
    page.has_next = more in (True, "true") if more is not None \
        else has_next(page.total, page_no, page_size, 1)
    return page


def decode(blob: bytes) -> Any:
    """A response page's JSON bytes for ``parse_page`` (and ``parse_any``): decoded into
    typed structs, the fast way, when it has the usual shape; else the plain JSON value."""
    from hub.domain.adapters.tmall_fast import decode as typed  # it builds on this module

    return typed(blob)


def is_page(payload: Any) -> bool:
    return isinstance(payload, dict) and (RESPONSE in payload or "error_response" in payload)


def parse_any(payload: Any, shop: str = "") -> Page:
    """One trade, a list of trades, or a whole response -> ``Page``."""
    if payload.__class__ is Typed:
        payload = payload.value()
    if is_page(payload):
        return parse_page(payload, shop)
    return split(payload if isinstance(payload, list) else [payload], _parse, ID_KEYS, shop)
