"""Douyin shop (抖店) orders, as ``order.searchList`` returns them.

Response: ``{"code": 10000, "msg", "sub_code", "sub_msg", "log_id", "data":
{"shop_order_list": [...], "total", "page", "size"}}``; any other ``code`` is the error
envelope (``page`` counts from 0).

Field meanings follow the documented ShopOrderListItem / SkuOrderListItem; where the docs
leave room, this is what the adapter assumes (``sim.shapes.douyin`` follows):

- Times are unix seconds (``create_time``, ``pay_time`` 0 = unpaid, ``update_time``).
- Money is integer fen. A line's ``origin_amount`` is its unit price (商品现价) and
  ``sum_amount`` price x count; the goods total is the sum of ``sum_amount`` (else
  unit x ``item_num``); ``promotion_amount`` is the discount, ``post_amount`` the
  freight, ``pay_amount`` what was paid.
- ``order_status``: 1 unpaid; 105 (paid, risk check) and 2 (备货中) paid; 101 partly
  shipped; 3 shipped; 4 cancelled; 5 finished.
- Receiver name, phone and street detail arrive encrypted (``encrypt_post_receiver``,
  ``encrypt_post_tel``, ``post_addr.encrypt_detail``) beside masked copies
  (``mask_post_receiver``, ``mask_post_tel``, ``mask_post_addr.detail``). With the
  batch-decrypt results (``decrypted``: cipher text -> plain) the adapter uses the plain
  values, otherwise the masked ones (a masked phone has ``*``; checks skip it).
  ``post_addr`` province / city / town (= district) / street carry ``name`` in clear.
- Presale: a line with ``trade_type`` 2 (定金预售; the shop-level ``trade_type`` is read
  too, it is deprecated). It is the final payment when ``order_phase_list`` has a paid
  phase after the first, else the deposit.
- Live room: a line with ``room_id`` / ``room_id_str`` other than 0, or ``theme_type``
  "1" (直播间); the room id is the source detail; a live order that is not a presale is
  a live flash sale. A line with a ``video_id`` (and no room) is source ``shortvideo``.
- Gift: every line has ``given_product_type`` FREE.
- Same-city: a line with ``trade_type`` 18 (小时达), or the shop-level
  ``latest_receipt_time`` (sent only for 小时达). Douyin has no express service: standard.
- Buyer tags: the ``key`` of each ``user_tag_ui`` entry. Tier comes from the CRM.
- Warehouse hint: the first line's ``inventory_list[0]`` ``out_warehouse_id`` (else
  ``warehouse_id``).
- Throttling: assumed a ``sub_code`` or ``msg`` naming the rate limit (``isv.access-limited``,
  ``*rate-limit*``, 频繁 / 限流); code 20000 (``isp.service-error``, "retry") is retryable.

>>> from hub.domain.adapters.douyin import parse_order
>>> parse_order({"order_id": "1", "order_status": 9}).status
Traceback (most recent call last):
...
hub.domain.adapters.common.ParseError: order_status: unknown order status 9
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.domain.adapters.common import (
    AMOUNTS,
    ITEMS,
    MarketplaceError,
    Page,
    ParseError,
    as_list,
    as_object,
    count,
    guarded,
    has_next,
    line_named,
    new_buyer,
    new_receiver,
    opt_text,
    opt_unix_time,
    order_of,
    split,
    text,
    total_of,
    unix_time,
)
from hub.domain.adapters.fast_path import Known, Typed, parse_typed
from hub.domain.order import Channel, DeliveryService, Order, OrderStatus, OrderType

ID_KEYS = ("order_id",)
OK = 10000
STATUS = {1: OrderStatus.UNPAID, 105: OrderStatus.PAID, 2: OrderStatus.PAID,
          101: OrderStatus.PARTIALLY_SHIPPED, 3: OrderStatus.SHIPPED,
          4: OrderStatus.CANCELLED, 5: OrderStatus.FINISHED}
PRESALE, HOUR_DELIVERY = 2, 18
THROTTLE_MARKS = ("access-limited", "traffic-limited", "rate-limit", "limited-by", "频繁", "限流")
RETRY_CODES = (20000,)
_STANDARD, _SAME_CITY = DeliveryService.STANDARD, DeliveryService.SAME_CITY
_NORMAL, _LIVE, _DEPOSIT, _FINAL, _GIFT = (
    OrderType.NORMAL, OrderType.LIVE_FLASH, OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL,
    OrderType.GIFT)
_DOUYIN = Channel.DOUYIN
_NO_ROOM = (None, 0, "", "0")


def _lines(order: dict) -> tuple[tuple, int, list]:
    """(items, goods total, facts: presale, same-city, room or None, video, gift, warehouse)."""
    lines = order.get("sku_order_list")
    if lines.__class__ is not list:
        lines = as_list(lines, "sku_order_list")
    if not lines:
        raise ParseError("sku_order_list", "empty: an order needs at least one item")
    out, total = [], 0
    facts = [False, False, None, "", True, ""]
    for index, line in enumerate(lines):
        try:
            if line.__class__ is not dict:
                line = as_object(line, "")
            get = line.get
            sku = get("sku_id")
            sku = str(sku) if sku.__class__ is int else opt_text(sku, "sku_id")
            item_id = get("product_id_str") or get("product_id")
            if item_id.__class__ is not str:
                item_id = "" if item_id == 0 else opt_text(item_id, "product_id")
            num = get("item_num")
            if num.__class__ is not int or num < 1:
                num = count(num, "item_num", minimum=1)
            price = get("origin_amount")
            if price.__class__ is not int or price < 0:
                price = count(price, "origin_amount")
            line_total = get("sum_amount")
            if line_total is None:
                line_total = price * num
            elif line_total.__class__ is not int or line_total < 0:
                line_total = count(line_total, "sum_amount")
            outer = get("out_sku_id") or ""
            if outer.__class__ is not str:
                outer = opt_text(outer, "out_sku_id")
            if not sku and not item_id and not outer:
                line_named(sku, item_id, outer, "sku_id")
            key = (sku, outer, num, price, item_id)
            out.append(ITEMS.get(key) or ITEMS.make(key))
            total += line_total
            trade_type = get("trade_type")
            if trade_type:
                if trade_type == PRESALE:
                    facts[0] = True
                elif trade_type == HOUR_DELIVERY:
                    facts[1] = True
            if facts[2] is None:
                room = get("room_id_str")
                if room in _NO_ROOM:
                    room = get("room_id")
                if room not in _NO_ROOM:
                    facts[2] = opt_text(room, "room_id")
                elif get("theme_type") in ("1", 1):
                    facts[2] = ""
            if not facts[3] and get("video_id"):
                facts[3] = opt_text(get("video_id"), "video_id")
            if facts[4] and get("given_product_type") != "FREE":
                facts[4] = False
            if index == 0 and get("inventory_list"):
                facts[5] = _warehouse(get("inventory_list"))
        except ParseError as exc:
            raise exc.within(f"sku_order_list[{index}]") from None
    return tuple(out), total, facts


def _warehouse(inventory: Any) -> str:
    if inventory.__class__ is list and inventory and inventory[0].__class__ is dict:
        first = inventory[0]
        return opt_text(first.get("out_warehouse_id") or first.get("warehouse_id"),
                        "inventory_list[0].warehouse_id")
    return ""


def _name(part: Any) -> str:
    if part.__class__ is dict:
        name = part.get("name")
        return name if name.__class__ is str else ""
    return part if part.__class__ is str else ""


def _secret(cipher: Any, masked: Any, decrypted: Mapping[str, str] | None) -> str:
    if decrypted and cipher.__class__ is str and cipher:
        plain = decrypted.get(cipher)
        if plain.__class__ is str:
            return plain
    return masked if masked.__class__ is str else ""


def _final_paid(phases: Any) -> bool:
    if phases.__class__ is not list:
        return False
    for phase in phases:
        if phase.__class__ is dict and phase.get("pay_success") is True:
            current = phase.get("current_phase")
            if current.__class__ is int and current >= 2:
                return True
    return False


def _parse(raw: Any, shop: str = "", decrypted: Mapping[str, str] | None = None) -> Order:
    order = raw if raw.__class__ is dict else as_object(raw, "")
    get = order.get
    order_id = get("order_id")
    if order_id.__class__ is not str or not order_id:
        order_id = text(order_id, "order_id")
    status = get("order_status")
    status = STATUS.get(status) if status.__class__ is int else None
    if status is None:
        raise ParseError("order_status", f"unknown order status {get('order_status')!r:.40}")
    items, total, (presale, same_city, room, video, gift, warehouse) = _lines(order)
    if presale or get("trade_type") == PRESALE:
        order_type = _FINAL if _final_paid(get("order_phase_list")) else _DEPOSIT
    elif gift:
        order_type = _GIFT
    else:
        order_type = _NORMAL if room is None else _LIVE
    if room is not None:
        source, detail = "live_room", room
    else:
        source, detail = ("shortvideo", video) if video else ("", "")
    addr = get("post_addr")
    if addr.__class__ is not dict:
        addr = {} if addr is None else as_object(addr, "post_addr")
    mask = get("mask_post_addr")
    tags = get("user_tag_ui")
    tags = tuple(t["key"] for t in tags if t.__class__ is dict and t.get("key").__class__ is str) \
        if tags.__class__ is list else ()
    buyer_id = get("doudian_open_id")
    if buyer_id.__class__ is not str or not buyer_id:
        buyer_id = text(buyer_id, "doudian_open_id")
    buyer_key = (buyer_id, "normal", tags)
    place = addr.get
    who = (_secret(get("encrypt_post_receiver"), get("mask_post_receiver"), decrypted),
           _secret(get("encrypt_post_tel"), get("mask_post_tel"), decrypted),
           _name(place("province")), _name(place("city")), _name(place("town")),
           _name(place("street")),
           _secret(place("encrypt_detail"), mask.get("detail") if mask.__class__ is dict else "",
                   decrypted))
    money = (total, _fen(get("promotion_amount"), "promotion_amount"),
             _fen(get("post_amount"), "post_amount"), _fen(get("pay_amount"), "pay_amount"))
    shop_id = get("shop_id")
    if not shop:
        shop = str(shop_id) if shop_id.__class__ is int else opt_text(shop_id, "shop_id")
    return order_of({
        "channel": _DOUYIN, "shop": shop, "order_id": order_id, "status": status,
        "created_at": unix_time(get("create_time"), "create_time"),
        "paid_at": opt_unix_time(get("pay_time"), "pay_time"),
        "modified_at": unix_time(get("update_time"), "update_time"),
        "buyer": new_buyer(*buyer_key),
        "receiver": new_receiver(who), "items": items,
        "amounts": AMOUNTS.get(money) or AMOUNTS.make(money), "order_type": order_type,
        "source": source, "source_detail": detail,
        "delivery": _SAME_CITY if same_city or get("latest_receipt_time") else _STANDARD,
        "warehouse_hint": warehouse})


def _fen(value: Any, path: str) -> int:
    """An optional amount in fen (Douyin sends integers)."""
    if value.__class__ is int and value >= 0:
        return value
    return 0 if value is None else count(value, path)


def parse_order(raw: Any, shop: str = "", decrypted: Mapping[str, str] | None = None) -> Order:
    """One shop order -> ``Order``, or ``ParseError`` naming the field. ``decrypted``
    maps cipher texts to plain ones (the batch-decrypt answer)."""
    return guarded(_parse, raw, ID_KEYS, shop, decrypted)


def ciphers(payload: Any) -> list[tuple[str, str]]:
    """(order_id, cipher_text) pairs of a page or list, for the batch-decrypt call."""
    if payload.__class__ is Typed:
        from hub.domain.adapters.douyin_fast import ciphers as typed

        found = typed(payload.body)
        if found is not None:
            return found
        payload = payload.value()
    if isinstance(payload, dict) and "code" in payload:
        data = payload.get("data")
        payload = data.get("shop_order_list") if isinstance(data, dict) else None
    records = payload if isinstance(payload, list) else [payload]
    out = []
    for order in records:
        if not isinstance(order, dict):
            continue
        addr = order.get("post_addr")
        addr = addr if isinstance(addr, dict) else {}
        for cipher in (order.get("encrypt_post_receiver"), order.get("encrypt_post_tel"),
                       addr.get("encrypt_detail")):
            if isinstance(cipher, str) and cipher:
                out.append((str(order.get("order_id", "")), cipher))
    return out


def raise_for_error(envelope: dict) -> None:
    """Raise ``MarketplaceError`` when ``envelope``'s code is not 10000."""
    code = envelope.get("code")
    if code == OK or code == str(OK):
        return
    sub, msg = str(envelope.get("sub_code") or ""), str(envelope.get("msg") or "")
    text_ = f"{sub} {msg} {envelope.get('sub_msg') or ''}"
    throttled = any(mark in text_ for mark in THROTTLE_MARKS)
    raise MarketplaceError(str(code), str(envelope.get("sub_msg") or msg), sub,
                           retryable=code in RETRY_CODES or sub.startswith("isp."),
                           throttled=throttled)


def parse_page(payload: Any, shop: str = "", decrypted: Mapping[str, str] | None = None, *,
               page_no: int | None = None, page_size: int | None = None,
               known: Known | None = None) -> Page:
    """A whole response -> ``Page``; the error envelope raises ``MarketplaceError``, a
    malformed envelope ``ParseError``. ``has_next`` from ``total``, ``page`` (from 0) and
    ``size`` in the response (or the ``page_no`` / ``page_size`` asked for). ``known``
    ((shop, order id) -> the version the caller holds, or None): on the typed path, a record at
    a known version is not converted, only listed in ``Page.known``."""
    if payload.__class__ is Typed:
        return parse_typed(payload, parse_page, shop, decrypted=decrypted, page_no=page_no,
                           page_size=page_size, known=known)
    envelope = as_object(payload, "")
    raise_for_error(envelope)
    data = as_object(envelope.get("data"), "data")
    records = as_list(data.get("shop_order_list") or [], "data.shop_order_list")
    page = split(records, _parse, ID_KEYS, shop, decrypted)
    page.total = total_of(data.get("total"))
    number, size = total_of(data.get("page")), total_of(data.get("size"))
    page.has_next = has_next(page.total, page_no if number is None else number,
                             page_size if size is None else size, 0)
    return page


def decode(blob: bytes) -> Any:
    """A response page's JSON bytes for ``parse_page`` (and ``parse_any``): decoded into
    typed structs, the fast way, when it has the usual shape; else the plain JSON value."""
    from hub.domain.adapters.douyin_fast import decode as typed  # it builds on this module

    return typed(blob)


def is_page(payload: Any) -> bool:
    return isinstance(payload, dict) and "code" in payload and "order_id" not in payload


def parse_any(payload: Any, shop: str = "", decrypted: Mapping[str, str] | None = None) -> Page:
    """One shop order, a list of them, or a whole response -> ``Page``."""
    if payload.__class__ is Typed:
        payload = payload.value()
    if is_page(payload):
        return parse_page(payload, shop, decrypted=decrypted)
    return split(payload if isinstance(payload, list) else [payload], _parse, ID_KEYS, shop,
                 decrypted)
