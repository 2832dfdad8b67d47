"""Tmall / Taobao trades, as ``taobao.trades.sold.increment.get`` returns them.

Assumptions where the public docs leave room (the emulator follows the same):
- Money fields (``total_fee`` goods total, ``discount_fee``, ``post_fee``,
  ``payment`` paid) are yuan decimal strings; a step (presale) trade's paid amount
  is ``payment`` once the final payment is in, else ``step_paid_fee``.
- ``type == "step"`` is a presale: ``step_trade_status`` FRONT_PAID_FINAL_PAID is
  the final payment, anything earlier the deposit stage.
- A live-stream order has ``LIVE`` in ``trade_from`` (comma list) and may carry
  ``live_room_id``; it is a live flash sale unless it is a presale.
- ``shipping_type``: ``ems`` and ``25`` (next-day) are express; ``tcps``
  (同城配送) is same-city; anything else standard.
- Buyer: ``buyer_open_uid`` (else ``buyer_nick``); tier comes from the CRM later.
"""

from __future__ import annotations

from collections.abc import Mapping
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

RESPONSE = "trades_sold_increment_get_response"
STATUS = {
    "TRADE_NO_CREATE_PAY": OrderStatus.UNPAID, "WAIT_BUYER_PAY": OrderStatus.UNPAID,
    "PAY_PENDING": OrderStatus.UNPAID, "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "SELLER_CONSIGNED_PART": OrderStatus.PARTIALLY_SHIPPED,
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED, "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,
    "TRADE_FINISHED": OrderStatus.FINISHED, "TRADE_CLOSED": OrderStatus.CANCELLED,
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CANCELLED,
}
DELIVERY = {"ems": DeliveryService.EXPRESS, "25": DeliveryService.EXPRESS,
            "tcps": DeliveryService.SAME_CITY}
THROTTLE_SUB_CODES = ("isv.access-limited", "accesscontrol.limited-by-app-access-count",
                      "accesscontrol.limited-by-api-access-count")


def _order_type(trade: Mapping[str, Any], live: bool) -> OrderType:
    if trade.get("type") == "step":
        if trade.get("step_trade_status") == "FRONT_PAID_FINAL_PAID":
            return OrderType.PRESALE_FINAL
        return OrderType.PRESALE_DEPOSIT
    return OrderType.LIVE_FLASH if live else OrderType.NORMAL


def _parse(raw: Any, shop: str = "") -> Order:
    trade = obj(raw, "")
    tid = text(trade, "tid", "")
    status = STATUS.get(text(trade, "status", ""))
    if status is None:
        raise ParseError("status", f"unknown trade status {trade.get('status')!r:.40}", tid)
    items = []
    for i, line in enumerate(listing(obj(trade.get("orders"), "orders").get("order"),
                                     "orders.order")):
        path = f"orders.order[{i}]."
        line = obj(line, path.rstrip("."))
        sku = text(line, "sku_id", path, required=False) or text(line, "num_iid", path)
        items.append(make_item(sku, text(line, "outer_sku_id", path, required=False),
                               integer(line, "num", path, minimum=1), fen(line, "price", path),
                               path + "num"))
    paid = fen(trade, "payment", "", default="0")
    if trade.get("type") == "step" and trade.get("step_trade_status") != "FRONT_PAID_FINAL_PAID":
        paid = fen(trade, "step_paid_fee", "", default="0")
    sources = str(trade.get("trade_from") or "").upper().split(",")
    live = "LIVE" in sources
    buyer_id = text(trade, "buyer_open_uid", "", required=False) or text(trade, "buyer_nick", "")
    return make_order(
        channel=Channel.TMALL, shop=shop or text(trade, "seller_nick", "", required=False),
        order_id=tid, status=status,
        created_at=local_time(trade, "created", ""),
        paid_at=local_time(trade, "pay_time", "", required=False),
        modified_at=local_time(trade, "modified", ""),
        buyer={"id": buyer_id, "tier": "normal", "tags": ()},
        receiver={
            "name": text(trade, "receiver_name", "", required=False),
            "phone": text(trade, "receiver_mobile", "", required=False),
            "province": text(trade, "receiver_state", "", required=False),
            "city": text(trade, "receiver_city", "", required=False),
            "district": text(trade, "receiver_district", "", required=False),
            "street": text(trade, "receiver_town", "", required=False),
            "detail": text(trade, "receiver_address", "", required=False),
        },
        items=items,
        amounts={"total_fen": fen(trade, "total_fee", ""),
                 "discount_fen": fen(trade, "discount_fee", "", default="0"),
                 "freight_fen": fen(trade, "post_fee", "", default="0"), "paid_fen": paid},
        order_type=_order_type(trade, live),
        source="live_room" if live else text(trade, "trade_from", "", required=False).lower(),
        source_detail=text(trade, "live_room_id", "", required=False),
        delivery=DELIVERY.get(str(trade.get("shipping_type") or ""), DeliveryService.STANDARD),
        warehouse_hint=text(trade, "store_code", "", required=False),
    )


def parse_order(raw: Any, shop: str = "") -> Order:
    """One trade object -> ``Order``, or ``ParseError`` naming the field."""
    return guarded(_parse, raw, shop)


def parse_page(payload: Any, shop: str = "") -> Page:
    """A whole response (or its error envelope, raised as ``MarketplaceError``)."""
    envelope = obj(payload, "")
    if "error_response" in envelope:
        err = obj(envelope["error_response"], "error_response")
        sub = str(err.get("sub_code") or "")
        code = str(err.get("code") or "")
        raise MarketplaceError(code, str(err.get("sub_msg") or err.get("msg") or ""), sub,
                               throttled=code == "7" or sub in THROTTLE_SUB_CODES,
                               retryable=code in ("15", "520") or sub.startswith("isp."))
    body = obj(envelope.get(RESPONSE), RESPONSE)
    trades = body.get("trades") or {}
    records = listing(obj(trades, f"{RESPONSE}.trades").get("trade"),
                      f"{RESPONSE}.trades.trade", required=False)
    orders, bad = split_page(records, _parse, shop)
    total = body.get("total_results")
    return Page(orders, bad, bool(body.get("has_next")), total if isinstance(total, int) else None)
