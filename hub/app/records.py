"""The records the use cases and the ledger exchange, and the ledger's errors.

They belong to the ports (``hub.app.ports``), not to one store: every store
(SQLite, PostgreSQL, memory) takes and gives these, and the API, the actors and
the use cases read them without importing a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.errors import OrderHubError

OrderKey = tuple[str, str, str]  # (channel, shop, channel order id)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch: an order version, as the stores keep
    it and ``stored_versions`` answers it."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


MAX_PAYLOAD_BYTES = 1 << 20  # one order, outbox payload, quarantined record or rule text


class LedgerError(OrderHubError):
    """A ledger problem an operator can act on; the message says what and why."""


class PayloadTooLarge(LedgerError):
    """A payload over :data:`MAX_PAYLOAD_BYTES`; nothing of its call was written."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """End of the last fully pulled window of one marketplace shop."""

    channel: str
    shop: str
    window_end: datetime


@dataclass(frozen=True, slots=True)
class StageEvent:
    """A stage reported from outside the decision path (WMS, reconciler, operator)."""

    key: OrderKey
    stage: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    tracking_no: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored stage event. ``version`` is the order version it was about."""

    id: int
    key: OrderKey
    stage: str
    at: datetime
    version: datetime | None = None
    ruleset_version: int | None = None
    tracking_no: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """An order row without its body: what lists and counts need."""

    key: OrderKey
    status: str  # the marketplace's status
    version: datetime  # the marketplace's modified time of the stored version
    created_at: datetime
    received_at: datetime
    stage: str
    stage_at: datetime
    lane: str | None = None
    score: float | None = None
    packing_group: str | None = None
    hold_reason: str | None = None
    hold_group: str | None = None
    ruleset_version: int | None = None
    tracking_no: str | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order as the dashboard shows it: the order, where it is, why, and its timeline."""

    summary: OrderSummary
    order: Order
    decision: Decision | None
    timeline: list[EventRecord]

    @property
    def stage(self) -> str:
        return self.summary.stage

    @property
    def tracking_no(self) -> str | None:
        return self.summary.tracking_no


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    id: int
    channel: str
    shop: str
    raw: bytes
    error: str
    at: datetime

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class RulesetRecord:
    """A published version: ``published_by`` is who put it in force (the approver);
    ``author`` who drafted it, ``draft`` the draft's id and ``drafted_at`` when (None for
    a version published without a draft: the default, the watched file, a rollback)."""

    version: int
    text: str
    published_by: str
    published_at: datetime
    author: str | None = None
    draft: int | None = None
    drafted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RuleDraftRecord:
    """A rule text an author proposed; ``published_version`` once an approver published it."""

    id: int
    text: str
    author: str
    comment: str
    created_at: datetime
    published_version: int | None = None
