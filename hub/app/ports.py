"""The ports the use cases work against: small typed Protocols, split by role.

A shell implements them (the ledger's stores, the Ray actor handles, the router);
``tests/fakes.py`` holds in-memory fakes so a use case is unit-tested without Ray
or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

# the records the ports exchange, and the store's size error
from hub.app.records import Cursor, OrderKey, RuleDraftRecord, StageEvent
from hub.app.records import PayloadTooLarge as PayloadTooLarge
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OutboxMessage

# -- the outside world's clients --------------------------------------------------------------

class Connections(Protocol):
    """Builds a client of the outside world where it is used (an actor's own process); a
    back office without a URL has none (None). ``hub.connectors.Connections`` is the
    real one."""

    def marketplace(self, config: Any) -> Any: ...
    def crm(self, url: str) -> Any: ...
    def erp(self, url: str) -> Any: ...
    def wms(self, url: str) -> Any: ...
    def robot(self, settings: dict[str, Any]) -> Any: ...


def no_connections(what: str) -> Any:
    """The refusal when a shell must build a client and was given no ``Connections``."""
    from hub.errors import OrderHubError

    return OrderHubError(f"{what} needs a client: pass connections=hub.connectors.Connections()"
                         " (or the client itself)")


# -- taking in orders, deciding them, warehouse status ---------------------------------------

class Oversized(NamedTuple):
    """An order a store cannot take: where it is in the batch, as what it would be
    stored (to quarantine), and why."""

    position: int
    record: bytes
    reason: str


class OrderStore(Protocol):
    """Where orders are kept, idempotent by (channel, shop, order id) and version."""

    async def ingest(self, orders: Sequence[Order], cursor: Cursor | None = None,
                     at: datetime | None = None) -> list[int]:
        """Store the new or changed versions and move ``cursor`` in the same
        transaction (with no orders: only the cursor); the positions in ``orders`` of
        the new or changed ones. ``at``: when the hub got them (default: now). Raises
        :class:`PayloadTooLarge`, writing nothing, when one is over the store's limit."""
        ...

    async def oversized(self, orders: Sequence[Order]) -> list[Oversized]:
        """The orders of ``orders`` that are over the store's size limit."""
        ...

    async def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        """The version held of each of ``keys`` the store has, in microseconds since the
        epoch of its ``modified_at``."""
        ...

    async def get_cursor(self, channel: str, shop: str) -> datetime | None: ...


class Quarantine(Protocol):
    """Records that could not be taken in, kept with the reason."""

    async def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                             at: datetime) -> None:
        """Raises :class:`PayloadTooLarge`, writing nothing, when ``raw`` is too large."""
        ...


class IntakeLedger(OrderStore, Quarantine, Protocol):
    """The order store that also keeps the quarantine (the ledger)."""


class DecisionQueue(Protocol):
    """The router's intake: orders to decide. May wait when the router is full."""

    async def submit(self, orders: Sequence[Order]) -> int:
        """How many were queued (versions queued or in flight already are skipped)."""
        ...


class RedecisionQueue(Protocol):
    """The router's intake for held order versions to decide again."""

    async def redecide(self, orders: Sequence[Order], reason: str) -> int:
        """Queue ``orders`` (held for ``reason``) to be decided again; how many were queued."""
        ...


class CatalogueSource(Protocol):
    """The merchant's catalogue (``hub.connectors.erp.ErpClient`` is one)."""

    async def catalogue(self, since: int = 0) -> dict[str, Any] | None:
        """What changed since version ``since``: ``{"version", "skus", "listings"}``;
        None when there is no catalogue to ask."""
        ...


class DecisionStore(Protocol):
    """Where decisions are committed, with their stage events and outbox rows."""

    async def commit_decisions(self, decisions: Sequence[Decision],
                               outbox: Sequence[OutboxMessage]) -> int:
        """One transaction; how many decisions were stored (an order version already
        decided, or no longer the stored one, is skipped with its rows)."""
        ...

    async def undecided_orders(self, older_than_s: float, limit: int) -> list[Order]:
        """Stored order versions still undecided after ``older_than_s``."""
        ...

    async def held_orders(self, reason: str, limit: int) -> list[Order]:
        """The orders held for ``reason`` now (a ``Reason`` value), oldest first."""
        ...


class StageRecorder(Protocol):
    """Where stages reported from outside the decision path are recorded."""

    async def record_stage(self, events: Sequence[StageEvent]) -> int:
        """How many events were recorded."""
        ...


# -- operator actions and rule versions -----------------------------------------------------
# The ledger's stores implement the reads; the writes go through the ledger's single writer
# (in the running hub ``hub.actors.handles.LedgerWriter``, in tests a local ledger).


class OrderSnapshot(Protocol):
    """One stored order as an operator acts on it (``hub.ledger.OrderView`` is one)."""

    @property
    def order(self) -> Order: ...

    @property
    def decision(self) -> Decision | None: ...

    @property
    def stage(self) -> str: ...


class RecentOrders(Protocol):
    def recent_orders(self, n: int) -> list[Order]:
        """The ``n`` most recently stored orders, newest first (duplicate checks, dry runs)."""
        ...


class OperatorReads(RecentOrders, Protocol):
    def get_order(self, key: OrderKey) -> OrderSnapshot | None: ...


class OperatorWrites(Protocol):
    def apply_operator_action(self, key: OrderKey, stage: str, at: datetime,
                              detail: dict[str, Any], *, only_from: Sequence[str] = (),
                              outbox: Sequence[OutboxMessage] = (),
                              amended: Order | None = None,
                              decision: Decision | None = None) -> bool:
        """One transaction: the amended version with its decision, the outbox rows and the
        operator's event, if the order is still in one of ``only_from``; False, nothing
        stored, otherwise (see ``hub.ledger.Ledger.apply_operator_action``)."""
        ...


class RuleVersionRecord(Protocol):
    """One published rule-set version (``hub.ledger.RulesetRecord`` is one)."""

    @property
    def version(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def published_by(self) -> str: ...

    @property
    def published_at(self) -> datetime | None: ...


class RuleVersionReads(Protocol):
    def get_ruleset(self, version: int | None = None) -> RuleVersionRecord | None:
        """That version, or the latest (the one in force) when ``version`` is None."""
        ...

    def list_rulesets(self) -> Sequence[RuleVersionRecord]: ...


class RuleVersionWrites(Protocol):
    def publish_ruleset(self, version: int, text: str, published_by: str,
                        at: datetime) -> None:
        """Store a version; the same text again is a no-op, other text a LedgerError."""
        ...


class RuleDraftReads(Protocol):
    def get_rule_draft(self, draft: int) -> RuleDraftRecord | None: ...

    def list_rule_drafts(self, limit: int = 100) -> Sequence[RuleDraftRecord]:
        """Newest first."""
        ...


class RuleDraftWrites(Protocol):
    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        """Keep a proposed rule text; its draft id."""
        ...

    def publish_ruleset(self, version: int, text: str, published_by: str, at: datetime, *,
                        author: str | None = None, draft: int | None = None) -> None:
        """Store a version drafted by ``author`` as ``draft`` and mark the draft
        published, in one transaction (a LedgerError if it was published already)."""
        ...


class ShadowRunner(Protocol):
    """Where a candidate rule set decides the live batches beside the rules in force
    (the router, in the running hub), acting on nothing (``hub.app.shadow``)."""

    def start_shadow(self, draft: int, version: int, text: str) -> datetime:
        """Start (or replace) the shadow run; when it started."""
        ...

    def stop_shadow(self) -> None: ...

    def shadow_report(self, minutes: int) -> Any:
        """A ``hub.app.shadow.ShadowReport`` over the last ``minutes``."""
        ...


class RuleVersions(RuleVersionReads, RuleVersionWrites, Protocol):
    """Reads and publishes through one handle (the rule store's writer)."""


class RuleConsoleReads(RuleVersionReads, RuleDraftReads, RecentOrders, Protocol):
    """What the rule console reads: the versions, the drafts, and recent orders for dry
    runs and the builder's suggestions."""
