"""Acknowledged: the order versions a puller's ledger already holds, kept while a pull
window may read them again.

A pull window starts ``overlap_s`` before the cursor, so every order modified in the
overlap is read twice or more (with a short interval, most orders are). The ledger
would store nothing for them, but each still costs a pickle, a ledger look-up and a
transaction. Only versions the ledger acknowledged are remembered, so forgetting one
(a restart, the size limit) only costs that ledger call again.

>>> from datetime import timedelta
>>> from tests.factories import order, T0
>>> seen = Acknowledged()
>>> first = [order(1), order(2)]
>>> seen.add(first)
>>> changed = order(2, modified_at=T0 + timedelta(minutes=5))
>>> [o.order_id for o in seen.unseen([order(1), changed, order(3)])]
['T100002', 'T100003']
>>> seen.version_of("tmall")(order(1).shop, "T100001") == order(1).modified_at
True
>>> seen.forget_before(T0 + timedelta(hours=1))
>>> len(seen)
0
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

OrderKey = tuple[str, str, str]


class Acknowledged:
    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self._versions: dict[OrderKey, datetime] = {}
        self._by_time: list[tuple[datetime, OrderKey]] = []  # a heap, oldest first

    def __len__(self) -> int:
        return len(self._versions)

    def unseen(self, orders: Sequence[Any]) -> list[Any]:
        """The orders whose version the ledger has not acknowledged, in their order."""
        versions = self._versions
        if not versions:
            return list(orders)
        return [o for o in orders if versions.get(o.key) != o.modified_at]

    def version_of(self, channel: str) -> Callable[[str, str], datetime | None]:
        """(shop, order id) -> the acknowledged version of the channel's order, or None
        (what a marketplace client skips converting)."""
        get = self._versions.get
        return lambda shop, order_id: get((channel, shop, order_id))

    def add(self, orders: Iterable[Any]) -> None:
        """The ledger holds these versions now."""
        versions, heap = self._versions, self._by_time
        for order in orders:
            key, version = order.key, order.modified_at
            if versions.get(key) != version:
                versions[key] = version
                heapq.heappush(heap, (version, key))
        while len(versions) > self.limit:
            self._drop_oldest()

    def forget_before(self, moment: datetime) -> None:
        """Versions modified before ``moment`` are no window's business any more."""
        heap = self._by_time
        while heap and heap[0][0] < moment:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        version, key = heapq.heappop(self._by_time)
        if self._versions.get(key) == version:
            del self._versions[key]
