"""What a later version of an order does to the dispatch the ledger already holds for it,
worked out in the transaction that stores its decision (the rule is the domain's,
:func:`hub.domain.outbox.follow_up`; this applies it to the stored rows).

Only orders decided before (an older version) can have a dispatch row, so new orders
cost nothing here: no dispatch row is read unless ``CommitPlan.redecided`` names one.
``Dispatches`` maps a dispatch key to ``(row id, PENDING | SENT, payload JSON)``; a row
ever claimed counts as SENT (it may be at the WMS: in flight, or answered but lost),
except a dead letter (refused at every try: the WMS never took it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.domain.decision import Stage
from hub.domain.lifecycle import moves
from hub.domain.outbox import (
    DISPATCH_DESTINATION,
    PENDING,
    SENT,
    WMS_INTERCEPT,
    Settle,
    amendment,
    dispatch_key,
    follow_up,
)
from hub.ledger.base import OrderKey
from hub.ledger.prepare import OutboxRow, blob, outbox_rows
from hub.ledger.writes import CommitPlan, Found, outbox_params

Dispatches = dict[str, tuple[int, str, Any]]
CANCELLED = Stage.CANCELLED.value


def dispatch_state(delivered_at: Any, attempts: int, dead_at: Any = None) -> str:
    """A dead letter was refused at every try: the WMS never took it, so it is PENDING
    (withdrawn by a cancellation, carrying a change's new version)."""
    if dead_at is not None and delivered_at is None:
        return PENDING
    return SENT if delivered_at is not None or attempts > 0 else PENDING


@dataclass
class FollowUpPlan:
    inserts: list[tuple] = field(default_factory=list)  # outbox params, as outbox_params
    withdrawn: list[int] = field(default_factory=list)  # unsent dispatch rows to delete
    payloads: list[tuple] = field(default_factory=list)  # (new payload, row id)
    events: list[tuple] = field(default_factory=list)  # oid, stage, at, tracking_no, detail
    updates: list[tuple] = field(default_factory=list)  # stage, stage_at, tracking_no, oid


def wanted(plan: CommitPlan) -> list[str]:
    """The dispatch keys to read: those of the orders decided again."""
    return [dispatch_key(k) for k in plan.redecided]


def settle(rows: Sequence[OutboxRow], found: Found, plan: CommitPlan, dispatches: Dispatches,
           at: float, null: Any = None) -> FollowUpPlan:
    """The outbox writes of a commit: as :func:`hub.ledger.writes.outbox_params`, except
    for the orders whose stored decision meets a dispatch row (replace, withdraw, amend)
    or cancels them (an intercept stands only against a sent dispatch; otherwise the
    order is recorded ``cancelled`` here)."""
    out = FollowUpPlan()
    cancels = {r.order_ref for r in rows if r.destination == WMS_INTERCEPT}
    if not dispatches and not cancels:
        out.inserts = outbox_params(rows, found, plan.dropped_keys, at)
        return out
    owed = {r.order_ref: r for r in rows
            if r.destination == DISPATCH_DESTINATION and r.order_ref in plan.decided}
    rules: dict[OrderKey, Settle] = {}
    for key, d in plan.decided.items():
        sent = dispatches.get(dispatch_key(key))
        rule = follow_up(sent[1] if sent else None, dispatch=key in owed,
                         cancels=key in cancels, held=d.hold_reason is not None)
        rules[key] = rule
        hit = found[key]
        if rule is Settle.WITHDRAW:
            out.withdrawn.append(sent[0])
        elif rule in (Settle.REPLACE, Settle.AMEND):
            new = owed[key]
            out.payloads.append((new.payload, sent[0]))
            if rule is Settle.AMEND:
                message = amendment(orjson.loads(sent[2]), orjson.loads(new.payload), d.version)
                if message is not None:
                    out.inserts += outbox_params(outbox_rows([message]), found, set(), at)
        if key in cancels and rule is not Settle.INTERCEPT:
            how = "withdrawn" if rule is Settle.WITHDRAW else "not sent"
            out.events.append((hit[0], CANCELLED, at, null, blob({"dispatch": how})))
            if moves(hit[2], CANCELLED):
                hit[2], hit[3] = CANCELLED, at
            out.updates.append((hit[2], hit[3], hit[4], hit[0]))
    kept = []
    for r in rows:
        rule = rules.get(r.order_ref)  # type: ignore[arg-type]
        if r.destination == WMS_INTERCEPT:
            if rule is Settle.INTERCEPT:
                kept.append(r)
        elif rule is None or rule is Settle.INSERT or r is not owed.get(r.order_ref):
            kept.append(r)
    out.inserts = outbox_params(kept, found, plan.dropped_keys, at) + out.inserts
    return out
