"""The messages a batch of decisions owes the outside world, as outbox rows, what a
later version of an order owes the warehouse, and how delivery is retried.

A dispatch's idempotency key names the order, not its version: the WMS gets an
order once (``wms:{channel}:{shop}:{order id}``). A later version that cancels the
order or changes what ships is settled in the ledger, in the transaction that
stores its decision, against that one dispatch row (:func:`follow_up`): while the
row is unsent, it is withdrawn (a cancellation) or carries the new version (a
change); once it may have reached the WMS, an intercept or amend message with its
own key per change (``wms-intercept:{ident}:{version}``, ``wms-amend:...``) asks the
warehouse to stop or change it before packing. An alert is sent once per order
version and reason. A failed delivery is tried again after a delay that doubles
from 1 s up to 5 minutes.

The dispatch carries the receiver's name, phone and full address: it is never
logged (the relay logs counts and keys), and the API shows orders masked.

>>> [backoff_s(n) for n in (1, 2, 3, 10)]
[1.0, 2.0, 4.0, 300.0]
>>> follow_up(PENDING, dispatch=False, cancels=True, held=False)
<Settle.WITHDRAW: 'withdraw'>
>>> follow_up(SENT, dispatch=False, cancels=True, held=False)
<Settle.INTERCEPT: 'intercept'>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.domain.catalogue import from_text
from hub.domain.decision import Decision, Reason, Stage
from hub.domain.order import Order, OrderStatus

WMS, ERP, DINGTALK = "wms", "erp", "dingtalk"
WMS_INTERCEPT, WMS_AMEND = "wms-intercept", "wms-amend"  # follow-ups of a sent dispatch
DISPATCH_DESTINATION = WMS  # delivering a row here records the order's `dispatched` stage
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
OrderKey = tuple[str, str, str]  # (channel, shop, channel order id)
CS_GROUP = "cs-orders"  # customer service: told when an intercept or amendment came too late
FOLLOW_UP_TRIES = 10  # `unknown` answers are retried until a row's 10th attempt (~8.5 min)
# Hours from payment to the promised ship-by time: the order type's when it has one, else
# the delivery service's (the case's usual promises; the rehearsal's scenarios use these).
PROMISE_HOURS = {"same_city": 2.0, "express": 24.0, "standard": 48.0,
                 "live_flash": 24.0, "presale_final": 48.0}


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


def ident(key: Sequence[str]) -> str:
    return f"{key[0]}:{key[1]}:{key[2]}"


def dispatch_key(key: Sequence[str]) -> str:
    """The idempotency key of an order's one WMS dispatch."""
    return f"wms:{key[0]}:{key[1]}:{key[2]}"


def ship_by(order: Order) -> datetime | None:
    """The promised ship-by time: payment (or creation) plus :data:`PROMISE_HOURS`."""
    hours = PROMISE_HOURS.get(order.order_type.value) or PROMISE_HOURS.get(order.delivery.value)
    if hours is None:
        return None
    return (order.paid_at or order.created_at) + timedelta(hours=hours)


def receiver_payload(order: Order) -> dict[str, str]:
    r = order.receiver
    return {"name": r.name, "phone": r.phone, "province": r.province, "city": r.city,
            "district": r.district, "street": r.street, "detail": r.detail}


def dispatch_items(order: Order, decision: Decision) -> list[dict[str, Any]]:
    """The merchant SKUs and quantities the order ships, bundles expanded, as the decision
    recorded them (``extra["skus"]``); the marketplace SKU ids when it recorded none (no
    catalogue in force)."""
    merchant = decision.extra.get("skus")
    if merchant:
        return [{"sku": sku, "quantity": n} for sku, n in from_text(merchant)]
    return [{"sku": i.sku, "quantity": i.quantity} for i in order.items]


def dispatch_payload(order: Order, decision: Decision) -> dict:
    """What the warehouse needs to ship: who and where (Douyin's decrypted, as stored),
    what (merchant SKUs after expansion; the marketplace lines too, under
    ``listing_items``, when they were expanded), how and by when."""
    payload = {
        "channel": order.channel.value, "shop": order.shop, "order_id": order.order_id,
        "lane": decision.lane, "packing_group": decision.packing_group,
        "delivery": decision.delivery, "warehouse_hint": order.warehouse_hint,
        "created_at": order.created_at.isoformat(),
        "items": dispatch_items(order, decision),
        "receiver": receiver_payload(order),
    }
    if "skus" in decision.extra:
        payload["listing_items"] = [
            {"item_id": i.item_id, "sku_id": i.sku, "outer_sku": i.outer_sku,
             "quantity": i.quantity} for i in order.items]
    carrier = decision.extra.get("carrier")
    if carrier:
        payload["carrier"] = carrier
    due = ship_by(order)
    if due is not None:
        payload["ship_by"] = due.isoformat()
    return payload


def alert_payload(order: Order, decision: Decision, group: str) -> dict:
    return {
        "group": group, "channel": order.channel.value, "shop": order.shop,
        "order_id": order.order_id, "lane": decision.lane, "hold_reason": decision.hold_reason,
        "reasons": [a.code for a in decision.anomalies if a.group == group],
        "details": [a.detail for a in decision.anomalies if a.group == group],
    }


def intercept_message(order: Order, decision: Decision) -> OutboxMessage:
    """The request to stop a cancelled order in the warehouse (stands only once its
    dispatch may have reached the WMS; see :func:`follow_up`)."""
    return OutboxMessage(
        destination=WMS_INTERCEPT, key=f"wms-intercept:{ident(order.key)}:{decision.version}",
        payload={"channel": order.channel.value, "shop": order.shop,
                 "order_id": order.order_id, "reason": "cancelled", "lane": decision.lane},
        order_key=order.key)


def outbox_for(batch: Sequence[Order], decisions: Sequence[Decision]) -> list:
    """A paid, unheld order's dispatch; a cancelled order's intercept; the alerts of the
    others (a cancelled order's anomalies need no one's attention)."""
    rows = []
    for order, decision in zip(batch, decisions, strict=True):
        status = order.status
        if status is OrderStatus.CANCELLED:
            rows.append(intercept_message(order, decision))
            continue
        name = ident(order.key)
        if not decision.held and status is OrderStatus.PAID:
            rows.append(OutboxMessage(destination=WMS, key=f"wms:{name}",
                                      payload=dispatch_payload(order, decision)))
        for group in decision.alert_groups:
            rows.append(OutboxMessage(
                destination=DINGTALK, key=f"alert:{group}:{name}:{decision.version}",
                payload=alert_payload(order, decision, group)))
    return rows


# -- a later version against the dispatch already made ----------------------------------------

PENDING, SENT = "pending", "sent"  # an order's dispatch row: never handed out / maybe at the WMS


class Settle(StrEnum):
    """What a stored decision's version does to its order's dispatch row."""

    INSERT = "insert"  # no dispatch row yet: the new one (if any) is inserted
    KEEP = "keep"  # nothing changes
    REPLACE = "replace"  # the unsent row carries the new version
    WITHDRAW = "withdraw"  # the unsent row is deleted: the WMS never gets it
    AMEND = "amend"  # the row may be at the WMS: it carries the new version, and an amend
    INTERCEPT = "intercept"  # the row may be at the WMS: ask it to stop the order


def follow_up(state: str | None, *, dispatch: bool, cancels: bool, held: bool) -> Settle:
    """The rule for a decision about a later version of an order. ``state``: its dispatch
    row's (None: there is none; :data:`PENDING`: never claimed; :data:`SENT`: delivered, or
    claimed at least once: it is or may be at the WMS, so in-flight rows count as sent);
    ``dispatch``: the new decision owes a dispatch (paid, not held); ``cancels``: the
    version cancels the order; ``held``: the new decision holds it. A row that only
    follows up a dispatch (an intercept) stands only when the answer is INTERCEPT."""
    if state is None:
        return Settle.INSERT
    if state == PENDING:
        if cancels or held:  # nothing may ship before the hold is resolved
            return Settle.WITHDRAW
        return Settle.REPLACE if dispatch else Settle.KEEP
    if cancels:
        return Settle.INTERCEPT
    return Settle.AMEND if dispatch else Settle.KEEP


def amendment(sent: Mapping[str, Any], new: Mapping[str, Any],
              version: str) -> OutboxMessage | None:
    """The amend request for what changed between the dispatch payload the WMS holds
    (``sent``) and a later version's (``new``): its receiver and/or items; None when
    neither changed. ``version`` names the change in the idempotency key."""
    changed = {name: new[name] for name in ("receiver", "items")
               if name in new and new.get(name) != sent.get(name)}
    if not changed:
        return None
    key = (new["channel"], new["shop"], new["order_id"])
    return OutboxMessage(
        destination=WMS_AMEND, key=f"wms-amend:{ident(key)}:{version}",
        payload={"channel": key[0], "shop": key[1], "order_id": key[2],
                 "lane": new.get("lane", ""), **changed},
        order_key=key)


# -- the WMS's answers to intercepts and amendments -------------------------------------------

RETRY = "retry"
TOO_LATE_STAGES = ("packed", "shipped")
TODO = {WMS_INTERCEPT: "courier interception / return to sender",
        WMS_AMEND: "ask the courier to redirect, or return to sender and ship again"}


def answer_outcome(destination: str, status: str, wms_stage: str | None) -> str:
    """The stage a WMS answer to an intercept or amend row records, or :data:`RETRY`
    (``unknown``: the dispatch may still be on its way; anything unexpected). A
    ``duplicate`` is the first answer again: for an intercept, read from the stage the
    WMS reports; for an amendment, taken as amended."""
    intercept = destination == WMS_INTERCEPT
    if status == "too_late":
        return Stage.INTERCEPT_TOO_LATE
    if status == ("intercepted" if intercept else "amended"):
        return Stage.INTERCEPTED if intercept else Stage.AMENDED
    if status == "duplicate":
        if not intercept:
            return Stage.AMENDED
        if wms_stage == Stage.INTERCEPTED:
            return Stage.INTERCEPTED
        if wms_stage in TOO_LATE_STAGES:
            return Stage.INTERCEPT_TOO_LATE
    return RETRY


def too_late_alert(row: OutboxMessage, wms_stage: str | None) -> OutboxMessage:
    """The alert to customer service when the warehouse had packed or shipped the order:
    what happened and what is left to do. Order ids only, no buyer data."""
    p = row.payload
    what = "cancelled" if row.destination == WMS_INTERCEPT else "changed (address or lines)"
    return OutboxMessage(
        destination=DINGTALK, key=f"alert:{CS_GROUP}:{row.key}:too_late",
        payload={"group": CS_GROUP, "channel": p.get("channel"), "shop": p.get("shop"),
                 "order_id": p.get("order_id"), "lane": p.get("lane", ""),
                 "hold_reason": Reason.INTERCEPT_TOO_LATE,
                 "reasons": [Reason.INTERCEPT_TOO_LATE.value],
                 "details": [f"buyer {what}, the warehouse had it {wms_stage or 'packed'}"],
                 "todo": TODO.get(row.destination, "")},
        order_key=row.order_ref())
