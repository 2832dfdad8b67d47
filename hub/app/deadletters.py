"""What the WMS's per-order answers to a dispatch do, and dead letters.

The WMS answers each order of a dispatch request on its own. An accepted order (or a
``duplicate``: it had it already) is delivered even when another of the same request was
refused. A refused one is tried again with the outbox's backoff until its row's
``tries``-th attempt (:data:`DISPATCH_TRIES` unless configured); then it is
dead-lettered: the row is kept aside (never claimed again), the order's stage becomes
``dispatch_failed`` and the warehouse group is alerted, all in the same ledger write as
the batch's other failures (one call per batch). An operator sends a dead letter again
from the dashboard (:func:`resend`): one transaction through the single writer clears
it and records ``released`` on the order.

A request the WMS did not answer (down, timeout) is retried forever with the capped
backoff: that is not the orders' fault and dead-lettering them would only hide an outage.

>>> from datetime import datetime, UTC
>>> row = OutboxMessage("wms", "wms:jd:s:J1", {"channel": "jd", "shop": "s",
...                     "order_id": "J1"}, id=7, attempts=8)
>>> done = dispatch_answers([row], [{"key": "wms:jd:s:J1", "status": "rejected",
...                                  "reason": "orders[0].items: bad"}], NOW, tries=8)
>>> done.dead
[(7, 'rejected by the WMS: orders[0].items: bad')]
>>> done.events[0].stage, done.alerts[0].payload["group"]
(<Stage.DISPATCH_FAILED: 'dispatch_failed'>, 'warehouse')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hub.app.records import OrderKey, StageEvent
from hub.domain.decision import Reason, Stage
from hub.domain.outbox import DINGTALK, OutboxMessage
from hub.errors import OrderHubError

DISPATCH_TRIES = 8  # a refused dispatch is dead-lettered at its 8th refusal (~2 min of backoff)
WAREHOUSE_GROUP = "warehouse"
TAKEN = ("accepted", "duplicate")
NOW = datetime(2026, 11, 11, tzinfo=UTC)  # doctests only


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An outbox row set aside after its last refused try (no payload: it may carry the
    receiver's name, phone and address)."""

    id: int
    destination: str
    key: str
    order: OrderKey | None
    attempts: int
    last_error: str
    dead_at: datetime
    created_at: datetime


@dataclass
class DispatchAnswers:
    delivered: list[int] = field(default_factory=list)
    retry: list[tuple[int, str]] = field(default_factory=list)  # (row id, why)
    dead: list[tuple[int, str]] = field(default_factory=list)
    events: list[StageEvent] = field(default_factory=list)
    alerts: list[OutboxMessage] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.dead) + sum(1 for _, why in self.retry if why.startswith("rejected"))


def dead_letter_alert(row: OutboxMessage, why: str, now: datetime) -> OutboxMessage:
    """The warehouse group's alert: order ids and the WMS's reason only, no buyer data."""
    p = row.payload
    return OutboxMessage(
        destination=DINGTALK, key=f"alert:{WAREHOUSE_GROUP}:{row.key}:dead:{now.isoformat()}",
        payload={"group": WAREHOUSE_GROUP, "channel": p.get("channel"), "shop": p.get("shop"),
                 "order_id": p.get("order_id"), "lane": p.get("lane", ""),
                 "hold_reason": Reason.DISPATCH_FAILED.value,
                 "reasons": [Reason.DISPATCH_FAILED.value], "details": [why],
                 "todo": "fix the order or the WMS, then resend it from the dashboard "
                         "(仓库拒收，修正后在看板重发)"},
        order_key=row.order_ref())


def _refused(out: DispatchAnswers, row: OutboxMessage, why: str, now: datetime,
             tries: int) -> None:
    if row.attempts < tries:
        out.retry.append((row.id, why))  # type: ignore[arg-type]
        return
    out.dead.append((row.id, why))  # type: ignore[arg-type]
    ref = row.order_ref()
    if ref is not None:
        out.events.append(StageEvent(ref, Stage.DISPATCH_FAILED, now, {
            "reason": why, "attempts": row.attempts, "key": row.key}))
    out.alerts.append(dead_letter_alert(row, why, now))


def dispatch_answers(rows: Sequence[OutboxMessage], results: Sequence[Mapping[str, Any]],
                     now: datetime, tries: int = DISPATCH_TRIES) -> DispatchAnswers:
    """What the WMS's per-order ``results`` (matched to ``rows`` by idempotency key) do:
    taken ones delivered; any other answer (refused, or none for that row) retried until
    the row's ``tries``-th attempt, then dead-lettered."""
    out = DispatchAnswers()
    by_key = {r.get("key"): r for r in results}
    for row in rows:
        result = by_key.get(row.key)
        status = None if result is None else result.get("status")
        if status in TAKEN:
            out.delivered.append(row.id)  # type: ignore[arg-type]
        elif status == "rejected":
            why = f"rejected by the WMS: {result.get('reason') or 'no reason given'}"  # type: ignore[union-attr]
            _refused(out, row, why[:500], now, tries)
        else:
            _refused(out, row, f"the WMS answered {status!r} for this order", now, tries)
    return out


def request_failed(rows: Sequence[OutboxMessage], error: str, now: datetime, *,
                   refused: bool, tries: int = DISPATCH_TRIES) -> DispatchAnswers:
    """A whole request failed: refused (HTTP 4xx: it counts toward the rows' tries) or
    not answered (retried, never dead-lettered)."""
    out = DispatchAnswers()
    for row in rows:
        if refused:
            _refused(out, row, f"rejected: {error}"[:500], now, tries)
        else:
            out.retry.append((row.id, error[:500]))  # type: ignore[arg-type]
    return out


class DispatchLedger(Protocol):
    async def delivered(self, ids: Sequence[int], now: datetime) -> Any: ...

    async def failed_many(self, failures: Sequence[tuple[int, str]], now: datetime, *,
                          dead: Sequence[tuple[int, str]] = (),
                          events: Sequence[StageEvent] = (),
                          outbox: Sequence[OutboxMessage] = ()) -> Any: ...


async def record_dispatch(done: DispatchAnswers, ledger: DispatchLedger,
                          now: datetime) -> None:
    """The taken rows delivered (one call), then every failure of the batch, the dead
    letters with their events and alerts, in one more."""
    if done.delivered:
        await ledger.delivered(done.delivered, now)
    if done.retry or done.dead:
        await ledger.failed_many(done.retry, now, dead=done.dead, events=done.events,
                                 outbox=done.alerts)


# -- the dashboard: list and resend -------------------------------------------------------------

class DeadLetterError(OrderHubError):
    """A resend that was refused; nothing was stored."""


class DeadLetterNotFound(DeadLetterError):
    """No dead letter has that id (never was, or sent again already)."""


class DeadLetterReads(Protocol):
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    def dead_letter(self, message_id: int) -> DeadLetter | None: ...


class DeadLetterWrites(Protocol):
    def resend_dead_letter(self, message_id: int, at: datetime,
                           detail: dict[str, Any]) -> bool:
        """One transaction: the row due again with fresh tries, and ``released`` (with
        ``detail``) on its order; False, nothing stored, when it is no dead letter."""
        ...


def resend(reads: DeadLetterReads, writes: DeadLetterWrites, message_id: int, *, by: str,
           at: datetime, note: str = "") -> DeadLetter:
    """Send a dead letter again (after the order or the WMS was fixed): it is due now,
    with a fresh count of tries; the order is ``released`` by ``by``."""
    found = reads.dead_letter(message_id)
    if found is None:
        raise DeadLetterNotFound(f"no dead letter {message_id}")
    detail = {"by": by, "note": note, "action": "resend", "key": found.key}
    if not writes.resend_dead_letter(message_id, at, detail):
        raise DeadLetterNotFound(f"dead letter {message_id} was sent again meanwhile")
    return found
