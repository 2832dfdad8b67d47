"""Taking in records from any source: a pulled window's pages or a pushed batch.

The parsed orders go to the order store in one call (with the puller's cursor, when
it closes a window); records that did not parse go to quarantine with the reason;
the new or changed orders go to the router. One order too large for the store is
set aside (quarantined with its reason) and the others are stored: it must not stall
its channel nor fail a whole push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.app.ports import (
    Cursor,
    DecisionQueue,
    IntakeLedger,
    PayloadTooLarge,
)
from hub.clock import Clock
from hub.domain.adapters import Quarantined
from hub.domain.order import Order

QUARANTINE_HEAD = 64 * 1024  # characters kept of a record too large to quarantine whole


@dataclass(frozen=True, slots=True)
class Taken:
    """What one take-in did. ``stored``: the orders the store holds now at their
    version (those given, less any set aside); ``new``: the new or changed ones, handed
    to the router; ``quarantined``: bad records and orders set aside."""

    stored: Sequence[Order]
    new: list[Order]
    quarantined: int
    set_aside: int


class Intake:
    """``await Intake(ledger, router, clock).take_in(channel, shop, orders, bad)``."""

    def __init__(self, ledger: IntakeLedger, router: DecisionQueue, clock: Clock) -> None:
        self.ledger, self.router, self.clock = ledger, router, clock

    async def take_in(self, channel: str, shop: str, orders: Sequence[Order],
                      bad: Sequence[Quarantined] = (), *, cursor: Cursor | None = None,
                      at: datetime | None = None) -> Taken:
        """Quarantine ``bad``, store ``orders`` (moving ``cursor`` with them), and hand
        the new or changed ones to the router. ``at``: when the hub got them."""
        for record in bad:
            await self.quarantine(channel, shop, record.raw, str(record.error))
        stored, positions, set_aside = await self._store(channel, shop, orders, cursor, at)
        new = [stored[i] for i in positions]
        if new:
            await self.router.submit(new)
        return Taken(stored, new, len(bad) + set_aside, set_aside)

    async def _store(self, channel: str, shop: str, orders: Sequence[Order],
                     cursor: Cursor | None, at: datetime | None,
                     ) -> tuple[Sequence[Order], list[int], int]:
        if not orders and cursor is None:
            return orders, [], 0
        try:
            return orders, await self.ledger.ingest(orders, cursor, at), 0
        except PayloadTooLarge:
            oversized = await self.ledger.oversized(orders)
            if not oversized:
                raise  # not one order's size: nothing to set aside
        for order in oversized:
            await self.quarantine(channel, shop, order.record, order.reason)
        dropped = {order.position for order in oversized}
        fit = [o for i, o in enumerate(orders) if i not in dropped]
        if not fit and cursor is None:
            return fit, [], len(dropped)
        return fit, await self.ledger.ingest(fit, cursor, at), len(dropped)

    async def quarantine(self, channel: str, shop: str, raw: Any, error: str) -> None:
        """Keep a record that cannot be taken in, with the reason; of one too large for
        the quarantine, its head: enough to find the order."""
        try:
            await self.ledger.quarantine_add(channel, shop, raw, error, self.clock.now())
        except PayloadTooLarge as exc:
            head = raw if isinstance(raw, bytes | str) else repr(raw)
            await self.ledger.quarantine_add(
                channel, shop, head[:QUARANTINE_HEAD],
                f"{error}; {exc}; first {QUARANTINE_HEAD} characters kept", self.clock.now())
