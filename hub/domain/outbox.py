"""The messages a batch of decisions owes the outside world, as outbox rows, and
how their delivery is retried.

Each row's idempotency key names the order, not its version: the WMS gets an
order once, and an alert is sent once per order version and reason. A failed
delivery is tried again after a delay that doubles from 1 s up to 5 minutes.

>>> [backoff_s(n) for n in (1, 2, 3, 10)]
[1.0, 2.0, 4.0, 300.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain.decision import Decision
from hub.domain.order import Order

WMS, ERP, DINGTALK = "wms", "erp", "dingtalk"
DISPATCH_DESTINATION = WMS  # delivering a row here records the order's `dispatched` stage
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
OrderKey = tuple[str, str, str]  # (channel, shop, channel order id)


@dataclass(slots=True)
class OutboxMessage:
    """A message owed to the outside world. ``key`` is its idempotency key (unique).

    ``order_key`` ties the row to an order's decision: when that decision is not
    stored (already decided, or stale), the row is dropped with it. When it is
    None the payload's ``channel``/``shop``/``order_id`` name the order, if present.
    """

    destination: str
    key: str
    payload: dict[str, Any]
    order_key: OrderKey | None = None
    id: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None

    def order_ref(self) -> OrderKey | None:
        if self.order_key is not None:
            return tuple(self.order_key)  # type: ignore[return-value]
        p = self.payload
        if isinstance(p, dict):
            ref = (p.get("channel"), p.get("shop"), p.get("order_id"))
            if type(ref[0]) is str and type(ref[1]) is str and type(ref[2]) is str:
                return ref  # type: ignore[return-value]
        return None


def backoff_s(attempts: int) -> float:
    """Delay before the next delivery attempt after ``attempts`` tries (1 s doubling, 5 min cap)."""
    return min(BACKOFF_BASE_S * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)


def dispatch_payload(order: Order, decision: Decision) -> dict:
    return {
        "channel": order.channel.value, "shop": order.shop, "order_id": order.order_id,
        "lane": decision.lane, "packing_group": decision.packing_group,
        "delivery": decision.delivery, "warehouse_hint": order.warehouse_hint,
        "created_at": order.created_at.isoformat(),
        "items": [{"sku": i.sku, "quantity": i.quantity} for i in order.items],
        "receiver": {"province": order.receiver.province, "city": order.receiver.city},
    }


def alert_payload(order: Order, decision: Decision, group: str) -> dict:
    return {
        "group": group, "channel": order.channel.value, "shop": order.shop,
        "order_id": order.order_id, "lane": decision.lane, "hold_reason": decision.hold_reason,
        "reasons": [a.code for a in decision.anomalies if a.group == group],
        "details": [a.detail for a in decision.anomalies if a.group == group],
    }


def outbox_for(batch: Sequence[Order], decisions: Sequence[Decision]) -> list:
    rows = []
    for order, decision in zip(batch, decisions, strict=True):
        ident = f"{order.channel.value}:{order.shop}:{order.order_id}"
        if not decision.held and order.status.value == "paid":
            rows.append(OutboxMessage(destination=WMS, key=f"wms:{ident}",
                                      payload=dispatch_payload(order, decision)))
        for group in decision.alert_groups:
            rows.append(OutboxMessage(
                destination=DINGTALK, key=f"alert:{group}:{ident}:{decision.version}",
                payload=alert_payload(order, decision, group)))
    return rows
