"""Douyin shop orders, as ``order.searchList`` returns them.

Assumptions where the public docs leave room (the emulator follows the same):
- Times are unix seconds; money is integer fen: goods total is the sum of
  ``sku_order_list[].origin_amount``, ``promotion_amount`` the discount,
  ``post_amount`` the freight, ``pay_amount`` what was paid.
- ``order_status``: 1 unpaid, 2 paid (备货中), 101 partly shipped, 3 shipped,
  4 cancelled, 5 finished.
- Receiver name, phone and street detail arrive encrypted (``encrypt_post_*``,
  ``post_addr.encrypt_detail``) beside masked forms (``mask_post_*``). Given the
  batch-decrypt results (cipher -> plain) the adapter uses the plain values,
  otherwise it keeps the masked ones.
- ``trade_type`` 2 is a presale; it is the final payment once
  ``presale_stage`` is "final" (else the deposit). A line with a non-zero
  ``room_id`` came from a live room: a live flash sale, source ``live_room``.
- ``logistics_type`` "same_city" / "express" choose the delivery service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.domain.adapters.common import (
    MarketplaceError,
    Page,
    ParseError,
    guarded,
    integer,
    listing,
    make_item,
    make_order,
    obj,
    split_page,
    text,
    unix_time,
)
from hub.domain.order import Channel, DeliveryService, Order, OrderStatus, OrderType

STATUS = {1: OrderStatus.UNPAID, 2: OrderStatus.PAID, 101: OrderStatus.PARTIALLY_SHIPPED,
          3: OrderStatus.SHIPPED, 4: OrderStatus.CANCELLED, 5: OrderStatus.FINISHED}
DELIVERY = {"same_city": DeliveryService.SAME_CITY, "express": DeliveryService.EXPRESS}
OK, THROTTLED = 10000, (50002, 60001)


def _name(addr: Mapping[str, Any], key: str) -> str:
    part = addr.get(key)
    if isinstance(part, Mapping):
        name = part.get("name")
        return name if isinstance(name, str) else ""
    return part if isinstance(part, str) else ""


def _secret(order: Mapping[str, Any], cipher: Any, masked: Any,
            decrypted: Mapping[str, str] | None) -> str:
    if decrypted and isinstance(cipher, str) and cipher in decrypted:
        return decrypted[cipher]
    return masked if isinstance(masked, str) else ""


def _parse(raw: Any, shop: str = "", decrypted: Mapping[str, str] | None = None) -> Order:
    order = obj(raw, "")
    order_id = text(order, "order_id", "")
    status = STATUS.get(integer(order, "order_status", ""))
    if status is None:
        raise ParseError("order_status", f"unknown status {order['order_status']}", order_id)
    items, total, room = [], 0, ""
    for i, line in enumerate(listing(order.get("sku_order_list"), "sku_order_list")):
        path = f"sku_order_list[{i}]."
        line = obj(line, path.rstrip("."))
        quantity = integer(line, "item_num", path, minimum=1)
        price = integer(line, "goods_price", path)
        total += integer(line, "origin_amount", path, default=price * quantity)
        items.append(make_item(text(line, "sku_id", path), text(line, "out_sku_id", path,
                                                                   required=False),
                               quantity, price, path + "item_num"))
        room = room or (str(line.get("room_id")) if line.get("room_id") not in
                        (None, 0, "", "0") else "")
    addr = obj(order.get("post_addr") or {}, "post_addr")
    mask = order.get("mask_post_addr") if isinstance(order.get("mask_post_addr"), dict) else {}
    if order.get("trade_type") == 2:
        kind = OrderType.PRESALE_FINAL if order.get("presale_stage") == "final" \
            else OrderType.PRESALE_DEPOSIT
    else:
        kind = OrderType.LIVE_FLASH if room else OrderType.NORMAL
    return make_order(
        channel=Channel.DOUYIN, shop=shop or text(order, "shop_id", "", required=False),
        order_id=order_id, status=status,
        created_at=unix_time(order, "create_time", ""),
        paid_at=unix_time(order, "pay_time", "", required=False),
        modified_at=unix_time(order, "update_time", ""),
        buyer={"id": text(order, "doudian_open_id", ""), "tier": "normal", "tags": ()},
        receiver={
            "name": _secret(order, order.get("encrypt_post_receiver"),
                            order.get("mask_post_receiver"), decrypted),
            "phone": _secret(order, order.get("encrypt_post_tel"), order.get("mask_post_tel"),
                             decrypted),
            "province": _name(addr, "province"), "city": _name(addr, "city"),
            "district": _name(addr, "town"), "street": _name(addr, "street"),
            "detail": _secret(order, addr.get("encrypt_detail"), mask.get("detail"), decrypted),
        },
        items=items,
        amounts={"total_fen": total,
                 "discount_fen": integer(order, "promotion_amount", "", default=0),
                 "freight_fen": integer(order, "post_amount", "", default=0),
                 "paid_fen": integer(order, "pay_amount", "", default=0)},
        order_type=kind,
        source="live_room" if room else "",
        source_detail=room,
        delivery=DELIVERY.get(str(order.get("logistics_type") or ""), DeliveryService.STANDARD),
        warehouse_hint=text(order, "warehouse_id", "", required=False),
    )


def parse_order(raw: Any, shop: str = "", decrypted: Mapping[str, str] | None = None) -> Order:
    """One shop order -> ``Order``, or ``ParseError`` naming the field."""
    return guarded(_parse, raw, shop, decrypted)


def ciphers(payload: Any) -> list[tuple[str, str]]:
    """(order_id, cipher_text) pairs of a page, for the batch-decrypt call."""
    out = []
    data = payload.get("data") if isinstance(payload, Mapping) else None
    for order in (data or {}).get("shop_order_list") or []:
        if not isinstance(order, Mapping):
            continue
        addr = order.get("post_addr") if isinstance(order.get("post_addr"), Mapping) else {}
        for cipher in (order.get("encrypt_post_receiver"), order.get("encrypt_post_tel"),
                       addr.get("encrypt_detail")):
            if isinstance(cipher, str) and cipher:
                out.append((str(order.get("order_id", "")), cipher))
    return out


def parse_page(payload: Any, shop: str = "",
               decrypted: Mapping[str, str] | None = None) -> Page:
    """A whole response (or its error envelope, raised as ``MarketplaceError``)."""
    envelope = obj(payload, "")
    code = envelope.get("code")
    if code != OK:
        raise MarketplaceError(str(code), str(envelope.get("msg") or ""),
                               str(envelope.get("sub_code") or ""),
                               throttled=code in THROTTLED,
                               retryable=isinstance(code, int) and code >= 50000)
    data = obj(envelope.get("data"), "data")
    records = listing(data.get("shop_order_list"), "data.shop_order_list", required=False)
    orders, bad = split_page(records, _parse, shop, decrypted)
    total, page_no, size = data.get("total"), data.get("page"), data.get("size")
    total = total if isinstance(total, int) else None
    has_next = total is not None and isinstance(page_no, int) and isinstance(size, int) \
        and (page_no + 1) * size < total
    return Page(orders, bad, has_next, total)
