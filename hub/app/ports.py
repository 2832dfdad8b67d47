"""The ports the use cases work against: small typed Protocols, split by role.

A shell implements them (the ledger's stores, the Ray actor handles, the router);
``tests/fakes.py`` holds in-memory fakes so a use case is unit-tested without Ray
or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OrderKey, OutboxMessage

# -- taking in orders, deciding them, warehouse status ---------------------------------------



# -- operator actions and rule versions -----------------------------------------------------
# The ledger's stores implement the reads; the writes go through the ledger's single writer
# (in the running hub ``hub.actors.ledger_service.LedgerWriter``, in tests a local ledger).


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


class RuleVersions(RuleVersionReads, RuleVersionWrites, Protocol):
    """Reads and publishes through one handle (the rule store's writer)."""


class RuleConsoleReads(RuleVersionReads, RecentOrders, Protocol):
    """What the rule console reads: the versions, and recent orders for dry runs."""
