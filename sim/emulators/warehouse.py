"""The emulated warehouse's work model: dispatched orders go through picked -> packed
-> shipped on an injected clock (the WMS emulator's state; its HTTP face is
``sim.emulators.wms``).

Work model (a small discrete-event simulation advanced to ``clock.now()`` on every
call and by the callback thread): each packing group has ``workers``; an order holds
one worker of its group while it is picked (``pick_s``) and packed (``pack_s``), then
waits ``ship_s`` for the carrier, which assigns the tracking number (carrier prefix +
digits). Service times are per lane. Waiting orders start by lane (P0 first) and then
in dispatch order (``priority=False``: first come, first served).

>>> from datetime import datetime
>>> from hub.clock import ManualClock, SHANGHAI
>>> clock = ManualClock(datetime(2026, 11, 11, tzinfo=SHANGHAI))
>>> wms = WmsState(clock, WmsConfig(default_workers=1))
>>> [r["status"] for r in wms.dispatch([{"key": "k1", "channel": "tmall", "shop": "s",
...     "order_id": "T1", "lane": "P1", "packing_group": "lane-P1"}])]
['accepted']
>>> clock.advance(3600); wms.lookup([("tmall", "s", "T1")])[0]["stage"]
'shipped'
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.clock import Clock
from sim.emulators.backoffice import OutageWindow, problems

STAGES = ("dispatched", "picked", "packed", "shipped")
LANE_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
Key = tuple[str, str, str]  # (channel, shop, order_id)


class ServiceTimes(BaseModel):
    """Business seconds: worker time to pick and to pack, then wait for the carrier."""

    model_config = ConfigDict(extra="forbid")

    pick_s: float = Field(default=120.0, ge=0)
    pack_s: float = Field(default=180.0, ge=0)
    ship_s: float = Field(default=900.0, ge=0)


class Carrier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    prefix: str = Field(pattern=r"^[A-Z]{1,4}$")
    digits: int = Field(default=12, ge=6, le=15)


def _default_lanes() -> dict[str, ServiceTimes]:
    return {"P0": ServiceTimes(pick_s=60, pack_s=90, ship_s=600),
            "P1": ServiceTimes(pick_s=90, pack_s=120, ship_s=900),
            "P2": ServiceTimes(), "P3": ServiceTimes(pick_s=150, pack_s=210, ship_s=1800)}


def _default_carriers() -> dict[str, Carrier]:
    return {"standard": Carrier(name="YTO", prefix="YT", digits=13),
            "express": Carrier(name="SF", prefix="SF", digits=12),
            "same_city": Carrier(name="SF-SameCity", prefix="SC", digits=10)}


class WmsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: dict[str, int] = {}  # packing group -> workers
    default_workers: int = Field(default=8, ge=1)  # for a group not listed
    service: dict[str, ServiceTimes] = Field(default_factory=_default_lanes)  # per lane
    default_service: ServiceTimes = ServiceTimes()
    carriers: dict[str, Carrier] = Field(default_factory=_default_carriers)  # per delivery
    priority: bool = True  # waiting orders start by lane; False: first come, first served
    callback_url: str = ""  # the hub's status endpoint, e.g. http://127.0.0.1:8700/wms/status
    callback_batch: int = Field(default=500, ge=1)
    callback_poll_s: float = Field(default=0.2, gt=0)  # wall seconds between rounds
    max_batch: int = Field(default=1000, ge=1)  # orders per dispatch call
    outages: list[OutageWindow] = []
    seed: int = 0

    @model_validator(mode="after")
    def _checked(self) -> WmsConfig:
        if not self.carriers:
            raise ValueError("carriers: at least one carrier is needed")
        bad = [g for g, n in self.workers.items() if n < 1]
        if bad:
            raise ValueError(f"workers: every packing group needs >= 1 worker: {bad}")
        return self


class DispatchLine(BaseModel):
    """One order as the hub's outbox sends it (extra fields are kept, not checked)."""

    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    shop: str = ""
    order_id: str = Field(min_length=1)
    lane: str = "P2"
    packing_group: str = ""
    delivery: str = "standard"
    warehouse_hint: str | None = None
    items: list[dict[str, Any]] = []


@dataclass(slots=True)
class WmsOrder:
    key: str
    ident: Key
    wms_no: str
    lane: str
    group: str
    delivery: str
    warehouse: str | None
    items: list[dict[str, Any]]
    dispatched_at: datetime
    seq: int
    stage: str = "dispatched"
    times: dict[str, str] = field(default_factory=dict)
    tracking_no: str | None = None
    carrier: str | None = None
    planted: str | None = None
    working: bool = False  # holds a worker of its group (from start until packed)

    def view(self) -> dict[str, Any]:
        channel, shop, order_id = self.ident
        return {"key": self.key, "channel": channel, "shop": shop, "order_id": order_id,
                "wms_order_no": self.wms_no, "stage": self.stage, "lane": self.lane,
                "packing_group": self.group, "tracking_no": self.tracking_no,
                "carrier": self.carrier, "times": dict(self.times),
                **({"planted": self.planted} if self.planted else {})}


class WmsState:
    """The warehouse's orders and work. Thread-safe (HTTP server + callback thread)."""

    def __init__(self, clock: Clock, config: WmsConfig | None = None,
                 on_dispatch: Callable[[list[WmsOrder]], None] | None = None) -> None:
        self.clock, self.config = clock, config or WmsConfig()
        self.on_dispatch = on_dispatch
        self._lock = threading.RLock()
        self._orders: dict[str, WmsOrder] = {}  # by idempotency key
        self._by_ident: dict[Key, WmsOrder] = {}
        self._results: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, list[tuple[int, int, str]]] = {}  # group -> heap
        self._busy: Counter[str] = Counter()
        self._events: list[tuple[datetime, int, str, str]] = []  # (at, n, stage, key)
        self._log: list[dict[str, Any]] = []  # status events; seq = index + 1
        self._n = itertools.count(1)
        self._order_no = itertools.count(1)
        self._now = clock.now()
        rng = random.Random(config.seed if config else 0)
        self._tracking_base = {d: rng.randrange(10 ** (c.digits - 1), 9 * 10 ** (c.digits - 1))
                               for d, c in self.config.carriers.items()}
        self._tracking_n: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    # -- dispatch ------------------------------------------------------------------------
    def dispatch(self, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take a batch; one result per line, in order. A repeated key (or an order the
        WMS already holds under another key) returns the first result, marked duplicate."""
        with self._lock:
            self.advance()
            results, fresh = [], []
            for n, raw in enumerate(lines):
                try:
                    line = DispatchLine.model_validate(raw)
                except ValidationError as exc:
                    self.counts["rejected"] += 1
                    results.append({"key": raw.get("key") if isinstance(raw, dict) else None,
                                    "status": "rejected",
                                    "reason": "; ".join(problems(exc, f"orders[{n}]"))})
                    continue
                ident = (line.channel, line.shop, line.order_id)
                known = self._orders.get(line.key) or self._by_ident.get(ident)
                if known is not None:
                    self.counts["duplicates"] += 1
                    results.append({**self._results[known.key], "key": line.key,
                                    "status": "duplicate", "stage": known.stage})
                    continue
                order = self._accept(line, ident)
                fresh.append(order)
                results.append(self._results[order.key])
            if fresh and self.on_dispatch is not None:
                self.on_dispatch(fresh)
            return results

    def _accept(self, line: DispatchLine, ident: Key) -> WmsOrder:
        seq = next(self._n)
        order = WmsOrder(key=line.key, ident=ident, wms_no=f"WMS{next(self._order_no):09d}",
                         lane=line.lane, group=line.packing_group or f"lane-{line.lane}",
                         delivery=line.delivery, warehouse=line.warehouse_hint,
                         items=line.items, dispatched_at=self._now, seq=seq)
        order.times["dispatched"] = self._now.isoformat()
        self._orders[order.key] = self._by_ident[ident] = order
        self._results[order.key] = {"key": order.key, "status": "accepted",
                                    "wms_order_no": order.wms_no}
        self.counts["accepted"] += 1
        rank = LANE_RANK.get(order.lane, len(LANE_RANK)) if self.config.priority else 0
        heapq.heappush(self._waiting.setdefault(order.group, []), (rank, seq, order.key))
        self._start(order.group)
        return order

    # -- the work ------------------------------------------------------------------------
    def workers(self, group: str) -> int:
        return self.config.workers.get(group, self.config.default_workers)

    def _service(self, lane: str) -> ServiceTimes:
        return self.config.service.get(lane, self.config.default_service)

    def _start(self, group: str) -> None:
        waiting = self._waiting.get(group)
        while waiting and self._busy[group] < self.workers(group):
            order = self._orders.get(heapq.heappop(waiting)[2])
            if order is None or order.stage != "dispatched":
                continue  # dropped or planted meanwhile
            self._busy[group] += 1
            order.working = True
            times = self._service(order.lane)
            picked = self._now + timedelta(seconds=times.pick_s)
            heapq.heappush(self._events, (picked, next(self._n), "picked", order.key))

    def _release(self, order: WmsOrder) -> None:
        if order.working:
            order.working = False
            self._busy[order.group] -= 1
            self._start(order.group)

    def advance(self) -> int:
        """Run the work up to ``clock.now()``; returns the status events produced."""
        now = self.clock.now()
        produced = 0
        with self._lock:
            while self._events and self._events[0][0] <= now:
                at, _, stage, key = heapq.heappop(self._events)
                self._now = max(self._now, at)
                order = self._orders.get(key)
                if order is None:
                    continue
                times = self._service(order.lane)
                if stage == "picked":
                    then = at + timedelta(seconds=times.pack_s)
                    heapq.heappush(self._events, (then, next(self._n), "packed", key))
                elif stage == "packed":
                    self._release(order)
                    then = at + timedelta(seconds=times.ship_s)
                    heapq.heappush(self._events, (then, next(self._n), "shipped", key))
                elif stage == "shipped":
                    self._ship(order)
                self._set_stage(order, stage, at)
                produced += 1
            self._now = max(self._now, now)
        return produced

    def _ship(self, order: WmsOrder) -> None:
        carriers = self.config.carriers
        kind = order.delivery if order.delivery in carriers else next(iter(carriers))
        carrier = carriers[kind]
        self._tracking_n[kind] += 1
        number = (self._tracking_base[kind] + self._tracking_n[kind]) % 10 ** carrier.digits
        order.tracking_no = f"{carrier.prefix}{number:0{carrier.digits}d}"
        order.carrier = carrier.name

    def _set_stage(self, order: WmsOrder, stage: str, at: datetime, *,
                   report: bool = True) -> None:
        order.stage = stage
        order.times[stage] = at.isoformat()
        self.counts[stage] += 1
        if report:
            channel, shop, order_id = order.ident
            self._log.append({"seq": len(self._log) + 1, "key": order.key, "channel": channel,
                              "shop": shop, "order_id": order_id, "stage": stage,
                              "at": at.isoformat(), "wms_order_no": order.wms_no,
                              "tracking_no": order.tracking_no, "carrier": order.carrier})

    # -- status out ----------------------------------------------------------------------
    def events_since(self, since: int, limit: int = 1000) -> tuple[int, list[dict[str, Any]]]:
        """Status events after sequence number ``since``: (last seq returned, events)."""
        self.advance()
        with self._lock:
            batch = self._log[max(since, 0):max(since, 0) + limit]
        return (batch[-1]["seq"] if batch else max(since, 0)), batch

    @property
    def last_seq(self) -> int:
        return len(self._log)

    def newest_seq(self) -> int:
        """The newest status event's sequence number, after running the work to now."""
        self.advance()
        return len(self._log)

    def lookup(self, idents: Iterable[Key]) -> list[dict[str, Any]]:
        """The WMS's view of each order it holds (unknown orders are left out)."""
        self.advance()
        with self._lock:
            found = (self._by_ident.get(tuple(i)) for i in idents)
            return [o.view() for o in found if o is not None]

    # -- planted mismatches (tests and fault drills) --------------------------------------
    def plant_shipped(self, ident: Key, *, report: bool = False,
                      delivery: str = "standard") -> dict[str, Any]:
        """An order the WMS says it shipped although the hub never dispatched it (or
        that jumps ahead of its real work). Silent unless ``report``."""
        with self._lock:
            self.advance()
            order = self._by_ident.get(ident)
            if order is None:
                seq = next(self._n)
                order = WmsOrder(key=f"planted:{':'.join(ident)}", ident=ident,
                                 wms_no=f"WMS{next(self._order_no):09d}", lane="P2",
                                 group="planted",
                                 delivery=delivery, warehouse=None, items=[],
                                 dispatched_at=self._now, seq=seq)
                self._orders[order.key] = self._by_ident[ident] = order
                self._results[order.key] = {"key": order.key, "status": "accepted",
                                            "wms_order_no": order.wms_no}
            self._events = [e for e in self._events if e[3] != order.key]
            heapq.heapify(self._events)
            self._release(order)
            order.planted = "shipped"
            self._ship(order)
            self._set_stage(order, "shipped", self._now, report=report)
            self.counts["planted_shipped"] += 1
            return order.view()

    def drop(self, ident: Key) -> bool:
        """The WMS loses an order (it answers as if it never had it)."""
        with self._lock:
            self.advance()
            order = self._by_ident.pop(ident, None)
            if order is None:
                return False
            del self._orders[order.key]
            self._events = [e for e in self._events if e[3] != order.key]
            heapq.heapify(self._events)
            self._release(order)
            self.counts["planted_dropped"] += 1
            return True

    def snapshot(self) -> dict[str, Any]:
        self.advance()
        with self._lock:
            stages = Counter(o.stage for o in self._orders.values())
            queued = Counter(o.group for o in self._orders.values()
                             if o.stage == "dispatched" and not o.working)
            waiting = {g: n for g, n in queued.items() if n}
            return {"orders": len(self._orders), "by_stage": dict(stages),
                    "busy": {g: n for g, n in self._busy.items() if n}, "waiting": waiting,
                    "status_events": len(self._log), "counts": dict(self.counts)}
