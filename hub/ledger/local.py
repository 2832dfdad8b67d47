"""A ledger in this process (``hub.ledger.Ledger``, synchronous) presented as the use
cases' ports (``hub.app.ports``): what tests and single-process tools use where the
running hub goes through the ledger actor (``hub.actors.handles``).

The helpers here are also what the ledger actor answers with, so both present the
ledger the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.app.ports import Cursor, OrderKey, Oversized, StageEvent
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OutboxMessage
from hub.ledger.base import MAX_PAYLOAD_BYTES, Ledger
from hub.ledger.prepare import order_json


def ingest_positions(ledger: Ledger, orders: Sequence[Order], cursor: Cursor | None = None,
                     at: datetime | None = None) -> list[int]:
    """``ledger.ingest``, answered with the positions in ``orders`` of the new or changed
    ones (the caller holds those orders already); with no orders, the cursor moves."""
    if not orders:
        if cursor is not None:
            ledger.set_cursor(cursor.channel, cursor.shop, cursor.window_end, cursor.epoch)
        return []
    where = {id(o): i for i, o in enumerate(orders)}
    return [where[id(o)] for o in ledger.ingest(orders, cursor=cursor, at=at)]


def oversized(orders: Sequence[Order]) -> list[Oversized]:
    """The orders over the ledger's size limit, as the JSON it would store."""
    out = []
    for position, order in enumerate(orders):
        body = order_json(order)
        if len(body) > MAX_PAYLOAD_BYTES:
            out.append(Oversized(position, body, f"order {order.order_id} is {len(body)} "
                                                 "bytes as JSON, over the ledger's limit"))
    return out


class LocalLedger:
    """``ledger`` as the order store, quarantine, decision store and stage recorder."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def ingest(self, orders: Sequence[Order], cursor: Cursor | None = None,
                     at: datetime | None = None) -> list[int]:
        return ingest_positions(self.ledger, orders, cursor, at)

    async def oversized(self, orders: Sequence[Order]) -> list[Oversized]:
        return oversized(orders)

    async def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        return self.ledger.stored_versions(keys)

    async def get_cursor(self, channel: str, shop: str) -> datetime | None:
        return self.ledger.get_cursor(channel, shop)

    async def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                             at: datetime) -> None:
        self.ledger.quarantine_add(channel, shop, raw, error, at)

    async def commit_decisions(self, decisions: Sequence[Decision],
                               outbox: Sequence[OutboxMessage]) -> int:
        return self.ledger.commit_decisions(decisions, outbox)

    async def undecided_orders(self, older_than_s: float, limit: int) -> list[Order]:
        return self.ledger.undecided_orders(older_than_s, limit)

    async def held_orders(self, reason: str, limit: int) -> list[Order]:
        return self.ledger.held_orders(reason, limit)

    async def record_stage(self, events: Sequence[StageEvent]) -> int:
        return self.ledger.record_stage(events)

    async def get_ruleset(self, version: int | None = None) -> Any:
        return self.ledger.get_ruleset(version)

    # the leases' port (hub.app.ports.Leases)
    async def lease_acquire(self, name: str, holder: str, ttl_s: float, now: datetime,
                            epoch: int | None = None) -> int | None:
        return self.ledger.lease_acquire(name, holder, ttl_s, now, epoch)

    async def lease_release(self, name: str, holder: str, epoch: int, now: datetime) -> bool:
        return self.ledger.lease_release(name, holder, epoch, now)

    async def leases(self, prefix: str = "") -> list[Any]:
        return self.ledger.leases(prefix)
