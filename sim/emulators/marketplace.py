"""What every emulated marketplace shares: the orders it holds, replayed from a trace.

``MarketplaceState`` releases each trace event of its channel when the clock passes
``origin + at``. The visible version of an order is its latest released event, and
its modified time is the event time (whole seconds, as the marketplaces store it).
A query by modified-time window ``[start, end)`` returns the latest version of each
order whose modified time falls inside, sorted by (modified, order id): paging over
a window returns every order exactly once, whatever the page size, while no new
event lands in the window. Fault events of the trace switch faults on (``faults``).
``export()`` is the buyer's side of the story (every status change, every page served).

>>> from datetime import datetime, timedelta
>>> from hub.clock import ManualClock, SHANGHAI
>>> from tests.factories import order
>>> clock = ManualClock(datetime(2026, 11, 11, 0, 1, tzinfo=SHANGHAI))
>>> state = MarketplaceState([], clock, channel="tmall")
>>> state.add_orders([order(n) for n in range(1, 6)])
5
>>> t0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
>>> page = state.serve(t0, t0 + timedelta(minutes=1), offset=0, limit=3)
>>> [r["tid"] for r in page.records], page.total, page.has_next
(['T100001', 'T100002', 'T100003'], 5, True)
"""

from __future__ import annotations

import bisect
import copy
import heapq
import itertools
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.clock import Clock
from hub.domain import SHANGHAI, Order
from hub.domain import build_model as build
from sim.emulators.faults import FaultBoard, FaultKind, FaultSpec
from sim.shapes import SHAPES
from sim.trace import EventKind, TraceEvent

Encoder = Callable[[Order], dict]
Breaker = Callable[[dict, str], dict]
ORDER_EVENTS = frozenset(EventKind) - {EventKind.FAULT, EventKind.RULES}


@dataclass(frozen=True, slots=True)
class Credential:
    """One app and one shop's authorisation. ``shop`` None: the token sees every shop."""

    app_key: str = "demo-key"
    app_secret: str = "demo-secret"
    access_token: str = "demo-token"
    shop: str | None = None

    def __repr__(self) -> str:  # secrets never print
        return f"Credential(app_key={self.app_key!r}, shop={self.shop!r})"


DEMO = Credential()


@dataclass(slots=True)
class Version:
    modified: int  # unix seconds
    seq: int
    order: Order
    raw: dict | None = None  # the served record, encoded once


@dataclass(slots=True)
class Released:
    """One released event, in release order (what push mode sends)."""

    seq: int
    kind: str
    order: Order


@dataclass(slots=True)
class Served:
    records: list[dict]
    total: int
    has_next: bool


@dataclass(slots=True)
class _Window:
    keys: list[tuple[int, str, str]] = field(default_factory=list)  # (modified, id, shop)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp() // 1)


class MarketplaceState:
    """The orders one emulated marketplace holds. Thread-safe: the HTTP server and a
    push sender read it from different threads."""

    def __init__(self, events: Iterable[TraceEvent], clock: Clock, *, channel: str,
                 origin: datetime | None = None, seed: int = 0,
                 credentials: Iterable[Credential] = (DEMO,),
                 rate_limit_per_s: float | None = None, encode: Encoder | None = None) -> None:
        self.channel = channel
        self.clock = clock
        self.origin = (origin or clock.now()).astimezone(SHANGHAI)
        self.credentials = {c.access_token: c for c in credentials}
        self.apps = {c.app_key: c.app_secret for c in credentials}
        self.faults = FaultBoard(seed)
        self.stats: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        # the served record of an order; the Douyin app swaps in one that encrypts
        self.encode: Encoder = encode or SHAPES[channel].to_raw
        self.rate_limit_per_s = rate_limit_per_s
        self._source: Iterator[TraceEvent] = iter(events)
        self._head: TraceEvent | None = None
        self._pending: list[tuple[datetime, int, datetime, str, Order]] = []
        self._versions: dict[tuple[str, str], Version] = {}
        self._index: dict[str | None, _Window] = {None: _Window()}
        # (shop, filter key) -> (predicate, the matching versions' keys): a status filter
        # asked for page after page is kept up to date instead of re-applied each page
        self._filtered: dict[tuple[str | None, Hashable], tuple[Callable, _Window]] = {}
        self._log: list[Released] = []
        self._changes: list[dict] = []  # records: every status change, as released
        self._pages: list[dict] = []  # records: every page served
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._bucket = (0.0, 0.0)  # (tokens, wall time) for rate_limit_per_s

    # -- release -------------------------------------------------------------------------
    def _peek(self) -> TraceEvent | None:
        if self._head is None:
            self._head = next(self._source, None)
        return self._head

    def release(self) -> int:
        """Release every event whose time has come; returns how many became visible."""
        now = self.clock.now()
        with self._lock:
            while (event := self._peek()) is not None:
                at = self.origin + timedelta(seconds=event.at)
                if at > now:
                    break
                self._head = None
                self._accept(event, at)
            released = 0
            while self._pending and self._pending[0][0] <= now:
                visible, seq, at, kind, order = heapq.heappop(self._pending)
                self._publish(seq, at, kind, order, visible)
                released += 1
            return released

    def _accept(self, event: TraceEvent, at: datetime) -> None:
        if event.kind == EventKind.FAULT:
            spec = FaultSpec.from_trace(event.detail)
            if spec.applies_to(self.channel):
                self.faults.add(spec, at)
                self.stats["faults_switched_on"] += 1
            return
        if event.order is None or event.order.channel.value != self.channel:
            return
        visible = at
        late = self.faults.take(FaultKind.LATE, at)
        if late is not None:
            visible = at + timedelta(seconds=late.spec.delay_s)
            self.errors[FaultKind.LATE.value] += 1
        heapq.heappush(self._pending, (visible, next(self._seq), at, event.kind.value,
                                       event.order))

    def _publish(self, seq: int, at: datetime, kind: str, order: Order,
                 visible: datetime | None = None) -> None:
        modified = _seconds(at)
        stamp = datetime.fromtimestamp(modified, SHANGHAI)
        if order.modified_at != stamp:  # a shallow copy: the trace's order is valid already
            order = build(Order, {**order.__dict__, "modified_at": stamp})
        self._log.append(Released(seq, kind, order))
        self.stats["released_events"] += 1
        change = {"at": at.isoformat(), "channel": self.channel, "shop": order.shop,
                  "order_id": order.order_id, "status": str(order.status),
                  "version": stamp.isoformat(), "event": kind}
        if visible is not None and visible > at:  # held back (the ``late`` fault)
            change["visible_at"] = visible.isoformat()
        self._changes.append(change)
        key = (order.shop, order.order_id)
        old = self._versions.get(key)
        if old is not None:
            if (old.modified, old.seq) > (modified, seq):
                return  # a late event older than what is visible already
            for shop in (None, order.shop):
                keys = self._index[shop].keys
                del keys[bisect.bisect_left(keys, (old.modified, order.order_id, order.shop))]
        self._versions[key] = Version(modified, seq, order)
        for shop in (None, order.shop):
            bisect.insort(self._index.setdefault(shop, _Window()).keys,
                          (modified, order.order_id, order.shop))
        for (shop, _), (matches, index) in self._filtered.items():
            if shop is not None and shop != order.shop:
                continue
            if old is not None and matches(old.order):
                del index.keys[bisect.bisect_left(index.keys,
                                                  (old.modified, order.order_id, order.shop))]
            if matches(order):
                bisect.insort(index.keys, (modified, order.order_id, order.shop))

    def add_orders(self, orders: Iterable[Order], *, visible_at: datetime | None = None,
                   kind: str = "loaded") -> int:
        """Load orders directly (tests, fixtures): each at its own ``modified_at``,
        visible from ``visible_at`` (default: at once)."""
        count = 0
        with self._lock:
            for order in orders:
                heapq.heappush(self._pending, (visible_at or order.modified_at,
                                               next(self._seq), order.modified_at, kind, order))
                count += 1
        self.release()
        return count

    # -- queries -------------------------------------------------------------------------
    def window(self, start: datetime, end: datetime, shop: str | None = None,
               where: Callable[[Order], bool] | None = None) -> list[Version]:
        """The latest version of every order modified in ``[start, end)`` (whole seconds),
        by (modified, order id)."""
        self.release()
        with self._lock:
            keys = self._keys(start, end, shop)
            found = [self._versions[(k[2], k[1])] for k in keys]
        return [v for v in found if where(v.order)] if where is not None else found

    def _keys(self, start: datetime, end: datetime, shop: str | None) -> list:
        keys = self._index.get(shop, _Window()).keys
        lo = bisect.bisect_left(keys, (_seconds(start), "", ""))
        hi = bisect.bisect_left(keys, (_seconds(end), "", ""))
        return keys[lo:hi]

    def _filter_index(self, shop: str | None, where: Callable[[Order], bool],
                      where_key: Hashable) -> list:
        """The keys of the versions ``where`` keeps, kept up to date from now on."""
        found = self._filtered.get((shop, where_key))
        if found is None:
            keys = [k for k in self._index.get(shop, _Window()).keys
                    if where(self._versions[(k[2], k[1])].order)]
            found = self._filtered[(shop, where_key)] = (where, _Window(keys))
        return found[1].keys

    def _select(self, start: datetime, end: datetime, shop: str | None,
                where: Callable[[Order], bool] | None, offset: int, limit: int,
                where_key: Hashable = None) -> tuple[list[Version], Version | None, int]:
        """(the page, the record before it, the window's total). Only the page is looked
        at, so paging a long window stays cheap, unless a filter comes without a
        ``where_key`` naming it (then the whole window is filtered for each page)."""
        if where is not None and where_key is None:
            versions = self.window(start, end, shop, where)
            before = versions[offset - 1] if 0 < offset <= len(versions) else None
            return versions[offset:offset + limit], before, len(versions)
        self.release()
        with self._lock:
            index = self._index.get(shop, _Window()).keys if where is None else \
                self._filter_index(shop, where, where_key)
            lo = bisect.bisect_left(index, (_seconds(start), "", ""))
            hi = bisect.bisect_left(index, (_seconds(end), "", ""))
            keys = index[max(lo + offset - 1, lo):min(lo + offset + limit, hi)]
            page = [self._versions[(k[2], k[1])] for k in keys]
        before = page.pop(0) if offset > 0 and lo + offset - 1 < hi and page else None
        return page, before, hi - lo

    def serve(self, start: datetime, end: datetime, *, offset: int, limit: int,
              shop: str | None = None, where: Callable[[Order], bool] | None = None,
              where_key: Hashable = None, breaker: Breaker | None = None,
              api: str = "", page: int | None = None) -> Served:
        """One page of a window as raw records, with the duplicate / malformed faults.
        ``where_key``: a name for ``where`` (the same key, the same filter), so its
        matches are indexed once and kept, not found again for every page. ``api`` and
        ``page`` (the page number as the API counts) name the page in the records."""
        chosen, before, total = self._select(start, end, shop, where, offset, limit,
                                             where_key)
        records = [self._raw(v) for v in chosen]
        now = self.clock.now()
        if chosen and self.faults.take(FaultKind.DUPLICATE, now) is not None:
            if before is not None:  # the previous page's last record, again
                records.insert(0, self._raw(before))
            else:
                records.append(records[0])
            self.count("duplicated", error=FaultKind.DUPLICATE.value)
        if records and breaker is not None and \
                self.faults.take(FaultKind.MALFORMED, now) is not None:
            self.count("malformed", error=FaultKind.MALFORMED.value)
            suffix = f"-BAD{self.stats['malformed']}"
            records.insert(len(records) // 2, breaker(copy.deepcopy(records[0]), suffix))
        with self._lock:
            self.stats["pages"] += 1
            self.stats["orders_served"] += len(chosen)
            self._pages.append({"at": now.isoformat(), "shop": shop, "api": api,
                                "start": start.isoformat(), "end": end.isoformat(),
                                "page": page, "count": len(records), "total": total})
        return Served(records, total, offset + len(chosen) < total)

    def _raw(self, version: Version) -> dict:
        if version.raw is None:
            version.raw = self.encode(version.order)
        return version.raw

    def raw_of(self, order: Order) -> dict:
        """``order`` as served: the record its pull API serves (encoded once per version)
        when it is the visible version, else encoded now (the push of an older event)."""
        version = self._versions.get((order.shop, order.order_id))
        if version is not None and version.order is order:
            return self._raw(version)
        return self.encode(order)

    def released_since(self, cursor: int, limit: int = 1000) -> tuple[list[Released], int]:
        """Events released after position ``cursor`` of the release log (push mode)."""
        self.release()
        with self._lock:
            batch = self._log[cursor:cursor + limit]
        return batch, cursor + len(batch)

    def export(self) -> dict:
        """The marketplace's records (contract §2 <marketplace>.json): every status
        change of every order (``event``: the trace's event kind) and every page."""
        self.release()
        with self._lock:
            return {"changes": list(self._changes), "pages": list(self._pages)}

    def orders(self) -> list[Order]:
        """The visible version of every order (for tests and reports)."""
        self.release()
        with self._lock:
            return [v.order for v in self._versions.values()]

    # -- auth, limits, stats -------------------------------------------------------------
    def secret_of(self, app_key: str) -> str | None:
        return self.apps.get(app_key)

    def authorise(self, app_key: str, access_token: str) -> Credential | None:
        cred = self.credentials.get(access_token)
        return cred if cred is not None and cred.app_key == app_key else None

    def over_rate_limit(self, wall: float) -> bool:
        """A token bucket of ``rate_limit_per_s`` calls a second (burst of one second)."""
        if not self.rate_limit_per_s:
            return False
        with self._lock:
            tokens, last = self._bucket
            tokens = min(self.rate_limit_per_s, tokens + (wall - last) * self.rate_limit_per_s)
            if tokens < 1.0:
                self._bucket = (tokens, wall)
                return True
            self._bucket = (tokens - 1.0, wall)
            return False

    def count(self, what: str, error: str | None = None, n: int = 1) -> None:
        with self._lock:
            self.stats[what] += n
            if error is not None:
                self.errors[error] += 1

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /_stats`` reports."""
        self.release()
        now = self.clock.now()
        with self._lock:
            return {"channel": self.channel, "now": now.isoformat(),
                    "requests": self.stats["requests"],
                    "stats": dict(self.stats), "errors": dict(self.errors),
                    "orders_served": self.stats["orders_served"],
                    "visible_orders": len(self._versions),
                    "pending_events": len(self._pending) + (self._head is not None),
                    "faults": self.faults.active(now)}
