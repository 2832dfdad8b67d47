"""Recording the warehouse's answers to the hub's follow-ups of a dispatch: intercepts
(the buyer cancelled) and amendments (a later version changed the receiver or lines).

Each answer becomes a stage event on the order (``intercepted``, ``amended``) or, when
the WMS had already packed or shipped it, the anomaly ``intercept_too_late`` with an
alert to customer service saying what is left to do. ``unknown`` (the WMS holds no
such order: its dispatch may still be on the way) is retried with the outbox's backoff
until the row's :data:`hub.domain.outbox.FOLLOW_UP_TRIES`-th attempt; then the hub
stops asking: an intercept is recorded as ``cancelled`` (the WMS never had the order),
an amendment is dropped (the dispatch, if it still comes, carries the new version).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.app.records import StageEvent
from hub.domain.decision import Reason, Stage
from hub.domain.outbox import (
    FOLLOW_UP_TRIES,
    RETRY,
    TODO,
    WMS_INTERCEPT,
    OutboxMessage,
    answer_outcome,
    too_late_alert,
)


class FollowUpLedger(Protocol):
    """Where the answers go: stage events with the alerts they owe, and the rows' fate."""

    async def record_stage(self, events: Sequence[StageEvent],
                           outbox: Sequence[OutboxMessage]) -> int: ...

    async def delivered(self, ids: Sequence[int], now: datetime) -> Any: ...

    async def failed(self, message_id: int, error: str, now: datetime) -> None: ...


@dataclass
class Answered:
    delivered: list[int] = field(default_factory=list)
    retry: list[tuple[int, str]] = field(default_factory=list)  # (row id, why)
    events: list[StageEvent] = field(default_factory=list)
    alerts: list[OutboxMessage] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


def answered(rows: Sequence[OutboxMessage], results: Sequence[Mapping[str, Any]],
             now: datetime) -> Answered:
    """What the WMS's ``results`` (matched to ``rows`` by idempotency key) record."""
    out = Answered()
    by_key = {r.get("key"): r for r in results}
    for row in rows:
        result = by_key.get(row.key)
        if result is None:
            out.retry.append((row.id, "the WMS gave no answer for this row"))
            out.outcomes["no_answer"] += 1
            continue
        status, wms_stage = str(result.get("status")), result.get("stage")
        outcome = answer_outcome(row.destination, status, wms_stage)
        op = "intercept" if row.destination == WMS_INTERCEPT else "amend"
        detail: dict[str, Any] = {"wms": status, "wms_stage": wms_stage, "key": row.key,
                                  "op": op}
        if outcome == RETRY:
            if status != "unknown" or row.attempts < FOLLOW_UP_TRIES:
                out.retry.append((row.id, f"WMS answered {status!r} to the {op}"))
                out.outcomes["retry"] += 1
                continue
            out.outcomes["given_up"] += 1
            out.delivered.append(row.id)
            if op == "intercept":
                out.events.append(StageEvent(row.order_ref(), Stage.CANCELLED, now, detail))
            continue
        if outcome == Stage.INTERCEPT_TOO_LATE:
            detail |= {"reason": Reason.INTERCEPT_TOO_LATE.value, "todo": TODO[row.destination]}
            out.alerts.append(too_late_alert(row, wms_stage))
        out.events.append(StageEvent(row.order_ref(), outcome, now, detail))
        out.delivered.append(row.id)
        out.outcomes[outcome] += 1
    return out


async def record_answers(rows: Sequence[OutboxMessage], results: Sequence[Mapping[str, Any]],
                         ledger: FollowUpLedger, now: datetime) -> Answered:
    """Record the answers: events and alerts first, then the rows delivered (a crash in
    between sends a row again; the WMS answers ``duplicate`` with the same effect and
    the alert's key is the same), then the retries."""
    done = answered(rows, results, now)
    if done.events or done.alerts:
        await ledger.record_stage(done.events, done.alerts)
    if done.delivered:
        await ledger.delivered(done.delivered, now)
    for row_id, error in done.retry:
        await ledger.failed(row_id, error, now)
    return done
