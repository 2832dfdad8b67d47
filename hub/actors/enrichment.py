"""What the domain needs besides the orders: buyer tiers and tags (CRM, cached with
a TTL), an inventory snapshot (ERP, per merchant SKU when a catalogue is in force,
refreshed every K seconds and drawn down by what the batches since took), and the
recent orders for duplicate checks."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from hub.domain.order import Buyer, Order, OrderStatus
from hub.domain.order_codec import with_buyer


class CustomerCache:
    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._now = monotonic
        self._entries: dict[str, tuple[float, dict]] = {}
        self.hits = self.misses = 0

    def missing(self, buyer_ids: Iterable[str]) -> list[str]:
        now = self._now()
        out = []
        for bid in set(buyer_ids):
            entry = self._entries.get(bid)
            if entry is None or now - entry[0] > self.ttl_s:
                out.append(bid)
        self.misses += len(out)
        return sorted(out)

    def put(self, profiles: dict[str, dict]) -> None:
        now = self._now()
        for bid, profile in profiles.items():
            self._entries[bid] = (now, profile)

    def apply(self, orders: Sequence[Order]) -> list[Order]:
        """Orders with the CRM's tier and tags merged into their buyer."""
        out = []
        for order in orders:
            entry = self._entries.get(order.buyer.id)
            if entry is None:
                out.append(order)
                continue
            self.hits += 1
            profile = entry[1]
            tags = tuple(dict.fromkeys((*order.buyer.tags, *profile.get("tags", ()))))
            tier = profile.get("tier") or order.buyer.tier
            if tier == order.buyer.tier and tags == order.buyer.tags:
                out.append(order)
            else:
                buyer = Buyer.model_construct(id=order.buyer.id, tier=tier, tags=tags)
                out.append(with_buyer(order, buyer))
        return out


class InventoryView:
    """ERP snapshot minus what was routed since it was asked for (``asking``: what is
    drawn while the ERP answers counts against the new snapshot, not lost with the old)."""

    def __init__(self) -> None:
        self.snapshot: dict[str, int] = {}
        self.taken_at: float | None = None
        self._drawn: dict[str, int] = {}
        self._since_asked: dict[str, int] | None = None

    def asking(self) -> None:
        """A snapshot is asked for now: draws from here on count against it too."""
        self._since_asked = {}

    def refresh(self, snapshot: dict[str, int], at: float) -> None:
        drawn = self._since_asked if self._since_asked is not None else {}
        self.snapshot, self.taken_at, self._drawn = dict(snapshot), at, drawn
        self._since_asked = None

    def current(self, skus: Iterable[str] | None = None) -> dict[str, int]:
        """What is left of each SKU in the snapshot; of ``skus`` only, when given (a
        batch's SKUs: the pools get those, not a catalogue's worth with every batch)."""
        snapshot, drawn = self.snapshot, self._drawn
        if skus is None:
            if not drawn:
                return snapshot
            return {sku: n - drawn.get(sku, 0) for sku, n in snapshot.items()}
        return {sku: snapshot[sku] - drawn.get(sku, 0) for sku in skus if sku in snapshot}

    def take(self, drawn: Mapping[str, int]) -> None:
        """Count ``drawn`` (units per SKU, ``priority.taken``: what a batch served) as gone."""
        for mine in (self._drawn, self._since_asked):
            if mine is not None:
                for sku, n in drawn.items():
                    mine[sku] = mine.get(sku, 0) + n

    def draw(self, orders: Iterable[Order]) -> None:
        """Every paid order's lines as gone, by their own SKU ids (served or not)."""
        for order in orders:
            if order.status != OrderStatus.PAID:
                continue
            self.take({item.sku: item.quantity for item in order.items})


class RecentOrders:
    """Orders created within the last ``window`` (business time), for duplicate checks,
    indexed by buyer: a batch's check needs only its own buyers' earlier orders, and
    shipping the whole window to a validator with every batch is what limited the hub.

    >>> from tests.factories import order, T0
    >>> recent = RecentOrders(timedelta(minutes=30))
    >>> recent.add([order(1), order(2)])
    >>> [o.order_id for o in recent.snapshot(T0, buyers={"buyer-2"})]
    ['T100002']
    """

    def __init__(self, window: timedelta, limit: int = 200_000) -> None:
        self.window, self.limit = window, limit
        self._arrivals: deque[tuple[datetime, str]] = deque()
        self._by_buyer: dict[str, deque[Order]] = {}

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._by_buyer.setdefault(order.buyer.id, deque()).append(order)
            self._arrivals.append((order.created_at, order.buyer.id))
        while len(self._arrivals) > self.limit:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        _, buyer = self._arrivals.popleft()
        queue = self._by_buyer.get(buyer)
        if queue:
            queue.popleft()
            if not queue:
                del self._by_buyer[buyer]

    def snapshot(self, now: datetime, buyers: Iterable[str] | None = None) -> list[Order]:
        """The recent orders of ``buyers`` (all buyers when None)."""
        horizon = now - self.window
        while self._arrivals and self._arrivals[0][0] < horizon:
            self._forget_oldest()
        wanted = self._by_buyer if buyers is None else buyers
        return [o for b in wanted for o in self._by_buyer.get(b, ())]

    def __len__(self) -> int:
        return len(self._arrivals)
