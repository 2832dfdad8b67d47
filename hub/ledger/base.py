"""The ledger's interface and the rows it takes and gives.

Every store (SQLite, PostgreSQL, in-memory) implements :class:`Ledger` and
passes the same contract suite (tests/ledger/contract.py). Times are taken as
arguments or from the injected clock, never read by the store itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.app.deadletters import DeadLetter

# the records belong to the ports; the ledger's modules and callers still find them here
from hub.app.records import (
    MAX_PAYLOAD_BYTES as MAX_PAYLOAD_BYTES,
)
from hub.app.records import (
    Cursor as Cursor,
)
from hub.app.records import (
    EventRecord as EventRecord,
)
from hub.app.records import (
    LedgerError as LedgerError,
)
from hub.app.records import (
    OrderKey as OrderKey,
)
from hub.app.records import (
    OrderSummary as OrderSummary,
)
from hub.app.records import (
    OrderView as OrderView,
)
from hub.app.records import (
    PayloadTooLarge as PayloadTooLarge,
)
from hub.app.records import (
    QuarantineRecord as QuarantineRecord,
)
from hub.app.records import (
    RuleDraftRecord as RuleDraftRecord,
)
from hub.app.records import (
    RulesetRecord as RulesetRecord,
)
from hub.app.records import (
    StageEvent as StageEvent,
)
from hub.clock import Clock
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OutboxMessage


class SchemaError(LedgerError):
    """The database is not an OrderHub ledger, or one newer than this code."""


class LockedError(LedgerError):
    """Another process held the SQLite file's write lock past the busy timeout."""


class Ledger(ABC):
    """One durable record of every order. Each write method is one transaction."""

    clock: Clock

    # -- writes -----------------------------------------------------------------------------
    @abstractmethod
    def ingest(self, orders: Sequence[Order], *, cursor: Cursor | None = None,
               at: datetime | None = None) -> list[Order]:
        """Upsert by ``Order.key``; ``modified_at`` is the version and only a newer one
        overwrites. Returns the new or changed orders (input order) and writes their
        ``received`` events; moves ``cursor`` in the same transaction."""

    @abstractmethod
    def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        """The stored version of each of ``keys`` the ledger holds, in microseconds since
        the epoch (``hub.ledger.times.micros`` of its ``modified_at``): what a caller
        checks a re-read order against before sending it whole."""

    @abstractmethod
    def commit_decisions(self, decisions: Sequence[Decision], outbox: Sequence[OutboxMessage],
                         *, at: datetime | None = None) -> int:
        """Store decisions, their stage events and the outbox rows in one transaction.
        A decision for an (order, version) already decided, or for a version other
        than the stored one, is ignored with its rows. Returns how many were stored."""

    @abstractmethod
    def record_stage(self, events: Sequence[StageEvent],
                     outbox: Sequence[OutboxMessage] = ()) -> int:
        """Append stage events (WMS, reconciler, operator), move current stages, set
        tracking numbers; events for unknown orders go to quarantine. Returns the number
        recorded."""

    @abstractmethod
    def apply_operator_action(self, key: OrderKey, stage: str, at: datetime,
                              detail: dict[str, Any], *, only_from: Sequence[str] = (),
                              outbox: Sequence[OutboxMessage] = (),
                              amended: Order | None = None,
                              decision: Decision | None = None) -> bool:
        """One operator action in one transaction: when the order's current stage is one of
        ``only_from`` (any when empty), store ``amended`` as its new version (a ``received``
        event) with ``decision`` about that version (its events), the ``outbox`` rows, and
        the operator's event ``stage`` with ``detail``, all at ``at``. Returns False, having
        stored nothing, when the order is unknown, in another stage, or already holds a
        version as new as ``amended``."""

    @abstractmethod
    def set_cursor(self, channel: str, shop: str, window_end: datetime) -> None: ...

    @abstractmethod
    def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                       at: datetime) -> int: ...

    @abstractmethod
    def publish_ruleset(self, version: int, text: str, published_by: str, at: datetime, *,
                        author: str | None = None, draft: int | None = None) -> None:
        """Store a rule-set version; publishing the same text again is a no-op. With
        ``draft`` (drafted by ``author``) the draft is marked published in the same
        transaction; a draft published already is a LedgerError, nothing stored."""

    @abstractmethod
    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        """Store a proposed rule text; returns the draft's id."""

    # -- outbox -----------------------------------------------------------------------------
    @abstractmethod
    def claim(self, n: int, lease_s: float, now: datetime) -> list[OutboxMessage]:
        """Up to ``n`` due rows, leased until ``now + lease_s`` (not claimable before)."""

    @abstractmethod
    def delivered(self, ids: Sequence[int], now: datetime) -> int: ...

    @abstractmethod
    def failed(self, message_id: int, error: str, now: datetime) -> None:
        """Record a failed attempt; the row is due again after
        :func:`hub.domain.outbox.backoff_s`."""

    @abstractmethod
    def failed_many(self, failures: Sequence[tuple[int, str]], now: datetime, *,
                    dead: Sequence[tuple[int, str]] = (), events: Sequence[StageEvent] = (),
                    outbox: Sequence[OutboxMessage] = ()) -> int:
        """A batch's failed deliveries in one transaction: each of ``failures`` (row id,
        error) is due again after :func:`hub.domain.outbox.backoff_s`; each of ``dead`` is
        set aside (a dead letter: never claimed until resent); ``events`` and ``outbox``
        are recorded as by :meth:`record_stage`. Rows unknown or delivered meanwhile are
        skipped. Returns the number of rows marked."""

    @abstractmethod
    def resend_dead_letter(self, message_id: int, at: datetime, detail: dict[str, Any]) -> bool:
        """One transaction: a dead letter due again at ``at`` with its tries counted from
        0, and a ``released`` event with ``detail`` on its order. False, nothing stored,
        when ``message_id`` is not a dead letter."""

    @abstractmethod
    def pending_count(self) -> int:
        """Outbox rows still to deliver (dead letters are not)."""

    @abstractmethod
    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Dead letters, newest first."""

    @abstractmethod
    def dead_letter(self, message_id: int) -> DeadLetter | None: ...

    # -- reads ------------------------------------------------------------------------------
    @abstractmethod
    def get_cursor(self, channel: str, shop: str) -> datetime | None: ...

    @abstractmethod
    def quarantine_list(self, limit: int = 100) -> list[QuarantineRecord]: ...

    @abstractmethod
    def list_rulesets(self) -> list[RulesetRecord]: ...

    @abstractmethod
    def get_ruleset(self, version: int | None = None) -> RulesetRecord | None: ...

    @abstractmethod
    def get_rule_draft(self, draft: int) -> RuleDraftRecord | None: ...

    @abstractmethod
    def list_rule_drafts(self, limit: int = 100) -> list[RuleDraftRecord]:
        """Newest first."""

    @abstractmethod
    def get_order(self, key: OrderKey) -> OrderView | None: ...

    @abstractmethod
    def find_orders(self, *, stage: str | None = None, lane: str | None = None,
                    hold_reason: str | None = None, tracking_no: str | None = None,
                    order_id: str | None = None, channel: str | None = None,
                    limit: int = 100) -> list[OrderSummary]:
        """Newest first (by arrival; within one ingested batch, by key)."""

    @abstractmethod
    def counts(self) -> dict[str, dict[str, int]]:
        """``{"stages": {stage: n}, "lanes": {lane: n}}``."""

    @abstractmethod
    def open_anomalies(self) -> list[dict[str, Any]]:
        """Held or mismatched orders: ``{"reason", "group", "count", "oldest_at"}`` rows."""

    @abstractmethod
    def stage_durations(self, since: datetime,
                        until: datetime | None = None) -> list[dict[str, Any]]:
        """See :func:`hub.domain.durations.stage_durations`; over events in [since, until)."""

    @abstractmethod
    def recent_orders(self, n: int) -> list[Order]:
        """The ``n`` most recently stored orders, newest first as in :meth:`find_orders`
        (rule dry-runs)."""

    @abstractmethod
    def events_since(self, *, since: datetime | None = None, until: datetime | None = None,
                     keys: Sequence[OrderKey] | None = None, after_id: int = 0,
                     limit: int | None = None) -> list[EventRecord]:
        """Events in id order, filtered by time range, orders and/or id watermark."""

    @abstractmethod
    def undecided_orders(self, older_than_s: float = 0.0, limit: int = 1000,
                         now: datetime | None = None) -> list[Order]:
        """Orders still ``received`` for at least ``older_than_s`` (re-drive after a crash)."""

    @abstractmethod
    def held_orders(self, reason: str, limit: int = 1000) -> list[Order]:
        """The orders held for ``reason`` now (their stored version), oldest first: what
        is decided again when what held them changed (the catalogue maps a line)."""

    @abstractmethod
    def reconcile_candidates(self, sample: int = 2000) -> list[dict[str, Any]]:
        """Recent orders not settled (``{"key", "marketplace_status", "stage"}``): all but
        those shipped that the marketplace (as last pulled) says shipped or finished; a
        cancelled order stays one (the warehouse may have shipped it all the same)."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
