"""Douyin's typed fast path (see ``fast_path``): an ``order.searchList`` page's bytes -> ``Page``.

Every scalar field is decoded as any JSON value with ``None`` when it is missing, so
``order.x`` means exactly what ``order.get("x")`` means to ``douyin._parse``; the code
below is that function's, over attributes. Whatever it would not take as it is (an
error, a conversion) sends the page the ordinary way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.domain.adapters import douyin
from hub.domain.adapters.common import (
    _UNIX,
    AMOUNTS,
    ITEMS,
    Page,
    build,
    new_buyer,
    new_receiver,
    opt_unix_time,
    total_of,
    unix_time,
)
from hub.domain.adapters.fast_path import BIG, Irregular, Known, Struct, decoder, ident, sift
from hub.domain.order import Order

_A = Any  # a field of any JSON value, None when missing


class Line(Struct):
    sku_id: _A = None
    product_id: _A = None
    product_id_str: _A = None
    out_sku_id: _A = None
    item_num: _A = None
    origin_amount: _A = None
    sum_amount: _A = None
    trade_type: _A = None
    room_id: _A = None
    room_id_str: _A = None
    theme_type: _A = None
    video_id: _A = None
    given_product_type: _A = None
    inventory_list: _A = None


class Name(Struct):
    name: _A = None


class Address(Struct):
    province: Name | str | None = None
    city: Name | str | None = None
    town: Name | str | None = None
    street: Name | str | None = None
    encrypt_detail: _A = None


class Masked(Struct):
    detail: _A = None


class Tag(Struct):
    key: _A = None


class ShopOrder(Struct):
    shop_id: _A = None
    order_id: _A = None
    order_status: _A = None
    trade_type: _A = None
    create_time: _A = None
    update_time: _A = None
    pay_time: _A = None
    pay_amount: _A = None
    post_amount: _A = None
    promotion_amount: _A = None
    doudian_open_id: _A = None
    encrypt_post_receiver: _A = None
    encrypt_post_tel: _A = None
    mask_post_receiver: _A = None
    mask_post_tel: _A = None
    post_addr: Address | None = None
    mask_post_addr: Masked | None = None
    user_tag_ui: list[Tag] | None = None
    order_phase_list: _A = None
    sku_order_list: list[Line] | None = None
    latest_receipt_time: _A = None


class Data(Struct):
    shop_order_list: list[ShopOrder] | None = None
    total: _A = None
    page: _A = None
    size: _A = None


class Envelope(Struct):
    code: _A = None
    data: Data | None = None


_STR, _INT, _DICT, _LIST = str, int, dict, list
_STATUS = douyin.STATUS
_ORDER = douyin.Order
_PRESALE, _HOUR = douyin.PRESALE, douyin.HOUR_DELIVERY
_NO_ROOM = douyin._NO_ROOM
_STANDARD, _SAME_CITY = douyin._STANDARD, douyin._SAME_CITY
_NORMAL, _LIVE, _DEPOSIT, _FINAL, _GIFT = (douyin._NORMAL, douyin._LIVE, douyin._DEPOSIT,
                                           douyin._FINAL, douyin._GIFT)
_DOUYIN = douyin._DOUYIN
_secret = douyin._secret
_ADDRESS, _MASKED = Address(), Masked()


def _count(value: Any, minimum: int) -> int:
    if value.__class__ is not _INT or not minimum <= value < BIG:
        raise Irregular
    return value


def _lines(order: ShopOrder) -> tuple[tuple, int, list]:
    lines = order.sku_order_list
    if not lines:
        raise Irregular
    out, total = [], 0
    facts = [False, False, None, "", True, ""]
    first = True
    for line in lines:
        sku = line.sku_id
        if sku.__class__ is not _STR or not sku:
            sku = ident(sku)
            if not sku:
                raise Irregular
        num = line.item_num
        if num.__class__ is not _INT or not 1 <= num < BIG:
            raise Irregular
        price = line.origin_amount
        if price.__class__ is not _INT or not 0 <= price < BIG:
            raise Irregular
        line_total = line.sum_amount
        line_total = price * num if line_total is None else _count(line_total, 0)
        outer = line.out_sku_id or ""
        if outer.__class__ is not _STR:
            raise Irregular
        item_id = line.product_id_str or line.product_id
        if item_id.__class__ is not _STR:
            item_id = "" if item_id == 0 else ident(item_id)
        key = (sku, outer, num, price, item_id)
        out.append(ITEMS.get(key) or ITEMS.make(key))
        total += line_total
        trade_type = line.trade_type
        if trade_type:
            if trade_type == _PRESALE:
                facts[0] = True
            elif trade_type == _HOUR:
                facts[1] = True
        if facts[2] is None:
            room = line.room_id_str
            if room in _NO_ROOM:
                room = line.room_id
            if room not in _NO_ROOM:
                facts[2] = ident(room)
            elif line.theme_type in ("1", 1):
                facts[2] = ""
        if not facts[3] and line.video_id:
            facts[3] = ident(line.video_id)
        if facts[4] and line.given_product_type != "FREE":
            facts[4] = False
        if first:
            first = False
            if line.inventory_list:
                facts[5] = _warehouse(line.inventory_list)
    return tuple(out), total, facts


def _warehouse(inventory: Any) -> str:
    if inventory.__class__ is _LIST and inventory and inventory[0].__class__ is _DICT:
        first = inventory[0]
        return ident(first.get("out_warehouse_id") or first.get("warehouse_id"))
    return ""


def _name(part: Any) -> str:
    if part.__class__ is Name:
        name = part.name
        return name if name.__class__ is _STR else ""
    return part if part.__class__ is _STR else ""


def _final_paid(phases: Any) -> bool:
    if phases.__class__ is not _LIST:
        return False
    for phase in phases:
        if phase.__class__ is _DICT and phase.get("pay_success") is True:
            current = phase.get("current_phase")
            if current.__class__ is _INT and 2 <= current < BIG:
                return True
    return False


def _fen(value: Any) -> int:
    if value.__class__ is _INT and 0 <= value < BIG:
        return value
    if value is None:
        return 0
    raise Irregular


def _order(o: ShopOrder, shop: str, decrypted: Mapping[str, str] | None) -> Order:
    order_id = o.order_id
    if order_id.__class__ is not _STR or not order_id:
        raise Irregular
    status = o.order_status
    status = _STATUS.get(status) if status.__class__ is _INT else None
    if status is None:
        raise Irregular
    items, total, (presale, same_city, room, video, gift, warehouse) = _lines(o)
    if presale or o.trade_type == _PRESALE:
        order_type = _FINAL if _final_paid(o.order_phase_list) else _DEPOSIT
    elif gift:
        order_type = _GIFT
    else:
        order_type = _NORMAL if room is None else _LIVE
    if room is not None:
        source, detail = "live_room", room
    else:
        source, detail = ("shortvideo", video) if video else ("", "")
    addr = o.post_addr or _ADDRESS
    mask = o.mask_post_addr or _MASKED
    tags = o.user_tag_ui
    tags = tuple(t.key for t in tags if t.key.__class__ is _STR) if tags else ()
    buyer_id = o.doudian_open_id
    if buyer_id.__class__ is not _STR or not buyer_id:
        raise Irregular
    who = (_secret(o.encrypt_post_receiver, o.mask_post_receiver, decrypted),
           _secret(o.encrypt_post_tel, o.mask_post_tel, decrypted),
           _name(addr.province), _name(addr.city), _name(addr.town), _name(addr.street),
           _secret(addr.encrypt_detail, mask.detail, decrypted))
    money = (total, _fen(o.promotion_amount), _fen(o.post_amount), _fen(o.pay_amount))
    return build(_ORDER, {
        "channel": _DOUYIN, "shop": shop or ident(o.shop_id), "order_id": order_id,
        "status": status,
        "created_at": unix_time(o.create_time, "create_time"),
        "paid_at": opt_unix_time(o.pay_time, "pay_time"),
        "modified_at": unix_time(o.update_time, "update_time"),
        "buyer": new_buyer(buyer_id, "normal", tags),
        "receiver": new_receiver(who), "items": items,
        "amounts": AMOUNTS.get(money) or AMOUNTS.make(money), "order_type": order_type,
        "source": source, "source_detail": detail,
        "delivery": _SAME_CITY if same_city or o.latest_receipt_time else _STANDARD,
        "warehouse_hint": warehouse})


def _id(o: ShopOrder) -> Any:
    return o.order_id


def _shop(o: ShopOrder) -> Any:
    shop = o.shop_id
    if shop.__class__ is _STR:
        return shop
    if shop.__class__ is _INT and -BIG < shop < BIG:
        return str(shop)
    return "" if shop is None else None


def _version(o: ShopOrder) -> Any:
    at = o.update_time
    return _UNIX.get(at) if at.__class__ is _INT else None


def convert(envelope: Envelope, shop: str = "", decrypted: Mapping[str, str] | None = None,
            *, page_no: int | None = None, page_size: int | None = None,
            known: Known | None = None) -> Page:
    code, data = envelope.code, envelope.data
    if (code != douyin.OK and code != str(douyin.OK)) or data is None:
        raise Irregular
    records, skipped = sift(data.shop_order_list or [], known, shop, _id, _shop, _version)
    page = Page([_order(o, shop, decrypted) for o in records], known=skipped)
    page.total = total_of(data.total)
    number, size = total_of(data.page), total_of(data.size)
    page.has_next = douyin.has_next(page.total, page_no if number is None else number,
                                    page_size if size is None else size, 0)
    return page


def ciphers(envelope: Envelope) -> list[tuple[str, str]] | None:
    """``douyin.ciphers`` of the decoded page; None when an order id is neither a string
    nor an integer (the plain JSON value then tells what ``str`` of it is), or when the
    page has no code (the plain value is then read as one order)."""
    if envelope.code is None:
        return None
    data = envelope.data
    out: list[tuple[str, str]] = []
    if data is None:
        return out
    for o in data.shop_order_list or ():
        addr = o.post_addr or _ADDRESS
        found = [c for c in (o.encrypt_post_receiver, o.encrypt_post_tel, addr.encrypt_detail)
                 if c.__class__ is _STR and c]
        if found:
            order_id = o.order_id
            if order_id.__class__ is not _STR:
                if order_id.__class__ is not _INT:
                    return None
                order_id = str(order_id)
            out.extend((order_id, cipher) for cipher in found)
    return out


decode = decoder(Envelope, convert)
