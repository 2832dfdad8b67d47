"""A what-if for the hub benchmark (``--what-if recent-by-buyer``): the router ships the
validator only the recent orders of the batch's own buyers instead of the whole
duplicate window, which is all ``duplicates()`` reads. The hub's code is not changed:
the runtime is handed this router subclass for the run. Reported apart from the real
figures, as the measured effect of the proposed fix.

The hub adopted this change (``RecentOrders`` indexed by buyer, commit 8f26bf9), so on a
hub from then on the what-if measures the same router twice; it stays for comparing
older hubs and as the pattern for the next what-if."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from hub.actors.router import Router
from hub.domain.order import Order

WHAT_IFS = ("recent-by-buyer",)


class RecentByBuyer:
    """The recent orders within ``window``, indexed by buyer; ``snapshot`` returns only
    those of ``self.buyers`` (the batch about to be checked)."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.buyers: set[str] = set()
        self._by_buyer: dict[str, deque[Order]] = {}
        self._arrivals: deque[tuple[datetime, str]] = deque()

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._by_buyer.setdefault(order.buyer.id, deque()).append(order)
            self._arrivals.append((order.created_at, order.buyer.id))

    def snapshot(self, now: datetime, buyers: Iterable[str] | None = None) -> list[Order]:
        horizon = now - self.window
        while self._arrivals and self._arrivals[0][0] < horizon:
            _, buyer = self._arrivals.popleft()
            queue = self._by_buyer.get(buyer)
            if queue:
                queue.popleft()
                if not queue:
                    del self._by_buyer[buyer]
        wanted = self.buyers if buyers is None else buyers
        return [o for b in wanted for o in self._by_buyer.get(b, ())]


class RecentByBuyerRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent = RecentByBuyer(self.recent.window)

    async def _enrich(self, batch: list[Order]) -> list[Order]:
        batch = await super()._enrich(batch)
        # _decide takes the snapshot right after this returns, with no await between
        self.recent.buyers = {o.buyer.id for o in batch}
        return batch


@contextlib.contextmanager
def applied(what_if: str | None) -> Iterator[None]:
    """While inside, ``Hub.start`` builds the what-if's router."""
    if not what_if:
        yield
        return
    if what_if not in WHAT_IFS:
        raise ValueError(f"unknown what-if {what_if!r} (known: {', '.join(WHAT_IFS)})")
    import hub.runtime

    original = hub.runtime.Router
    hub.runtime.Router = RecentByBuyerRouter
    try:
        yield
    finally:
        hub.runtime.Router = original
