"""In-memory fakes of the use cases' ports (``hub.app.ports``), for unit tests of the
use cases without Ray or a database. They keep what they were given, in the order
given, so a test can read back what a use case did."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.app.ports import Cursor, OrderKey, Oversized, PayloadTooLarge, StageEvent
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OutboxMessage


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


class FakeLedger:
    """Order store, quarantine, decision store and stage recorder in dicts and lists.

    ``too_large``: order ids the store refuses as over its limit (``ingest`` raises
    ``PayloadTooLarge`` and writes nothing when one is in the batch); ``refuse_all``: the
    store refuses every ingest as too large without naming an order."""

    def __init__(self, too_large: Sequence[str] = (), quarantine_limit: int | None = None,
                 refuse_all: bool = False) -> None:
        self.orders: dict[OrderKey, Order] = {}
        self.cursors: dict[tuple[str, str], datetime] = {}
        self.quarantined: list[tuple[str, str, Any, str, datetime]] = []
        self.decisions: dict[tuple[OrderKey, str], Decision] = {}
        self.outbox: dict[str, OutboxMessage] = {}  # by idempotency key
        self.stages: list[StageEvent] = []
        self.ingest_calls: list[list[str]] = []  # order ids of each ingest call
        self.too_large, self.refuse_all = set(too_large), refuse_all
        self.quarantine_limit = quarantine_limit

    # -- order store ---------------------------------------------------------------------
    async def ingest(self, orders: Sequence[Order], cursor: Cursor | None = None,
                     at: datetime | None = None) -> list[int]:
        self.ingest_calls.append([o.order_id for o in orders])
        if self.refuse_all or any(o.order_id in self.too_large for o in orders):
            raise PayloadTooLarge("a payload is over the fake's limit")
        positions = []
        for i, order in enumerate(orders):
            held = self.orders.get(order.key)
            if held is None or held.modified_at < order.modified_at:
                self.orders[order.key] = order
                positions.append(i)
        if cursor is not None:
            self.cursors[(cursor.channel, cursor.shop)] = cursor.window_end
        return positions

    async def oversized(self, orders: Sequence[Order]) -> list[Oversized]:
        return [Oversized(i, o.order_id.encode() * 10, f"order {o.order_id} is too large")
                for i, o in enumerate(orders) if o.order_id in self.too_large]

    async def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        return {k: _micros(self.orders[k].modified_at) for k in keys if k in self.orders}

    async def get_cursor(self, channel: str, shop: str) -> datetime | None:
        return self.cursors.get((channel, shop))

    # -- quarantine ----------------------------------------------------------------------
    async def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                             at: datetime) -> None:
        if self.quarantine_limit is not None and len(raw) > self.quarantine_limit:
            raise PayloadTooLarge(f"quarantined raw payload is {len(raw)} bytes")
        self.quarantined.append((channel, shop, raw, error, at))

    # -- decision store ------------------------------------------------------------------
    async def commit_decisions(self, decisions: Sequence[Decision],
                               outbox: Sequence[OutboxMessage]) -> int:
        stored = set()
        for d in decisions:
            key = ((d.channel, d.shop, d.order_id), d.version)
            if key not in self.decisions:
                self.decisions[key] = d
                stored.add(key[0])
        skipped = {(d.channel, d.shop, d.order_id) for d in decisions} - stored
        for message in outbox:  # a skipped decision's rows are dropped with it
            if message.order_ref() not in skipped:
                self.outbox.setdefault(message.key, message)
        return len(stored)

    async def undecided_orders(self, older_than_s: float, limit: int) -> list[Order]:
        decided = {key for key, _ in self.decisions}
        return [o for k, o in self.orders.items() if k not in decided][:limit]

    async def held_orders(self, reason: str, limit: int) -> list[Order]:
        latest = {key: d for (key, _), d in self.decisions.items()}
        return [o for k, o in self.orders.items()
                if k in latest and latest[k].hold_reason == reason][:limit]

    # -- stage recorder ------------------------------------------------------------------
    async def record_stage(self, events: Sequence[StageEvent]) -> int:
        self.stages += events
        return len(events)


class FakeRouter:
    """The decision queue: keeps each batch submitted."""

    def __init__(self) -> None:
        self.batches: list[list[Order]] = []

    async def submit(self, orders: Sequence[Order]) -> int:
        self.batches.append(list(orders))
        return len(orders)

    @property
    def orders(self) -> list[Order]:
        return [o for batch in self.batches for o in batch]
