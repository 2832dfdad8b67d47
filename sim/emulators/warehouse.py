"""The emulated warehouse's work model: dispatched orders go through picked -> packed
-> shipped on the WMS's own clock (the WMS emulator's state; its HTTP face is
``sim.emulators.wms``, its records ``sim.emulators.wms_records``).

Work model (a small discrete-event simulation advanced to ``clock.now()`` on every
call and by the callback thread): each packing group has a crew (``WmsConfig.crew``:
workers and shifts); an order holds one worker of its group while it is picked
(``pick_s``) and packed (``pack_s``), then waits ``ship_s`` for the carrier, which
assigns the tracking number (carrier prefix + digits). Service times are per lane.
Waiting orders start by lane (P0 first) and then in dispatch order (``priority=False``:
first come, first served). Outside its shifts a group starts no new work; an order
already being worked finishes.

Until an order is packed the hub may intercept it (it stops, frees its worker and
never ships) or amend what ships (receiver, items); after, both answer ``too_late``.
A dispatch under a new key for an order already held makes a second warehouse order.

The clock is a ``WarpClock`` over the one given: ``fast_forward(f)`` lets the
warehouse's business time run ``f`` times faster from then on.

>>> from datetime import datetime
>>> from hub.clock import ManualClock, SHANGHAI
>>> clock = ManualClock(datetime(2026, 11, 11, tzinfo=SHANGHAI))
>>> wms = WmsState(clock, WmsConfig(default_workers=1))
>>> [r["status"] for r in wms.dispatch([{"key": "k1", "channel": "tmall", "shop": "s",
...     "order_id": "T1", "lane": "P1", "packing_group": "lane-P1"}])]
['accepted']
>>> clock.advance(3600); wms.lookup([("tmall", "s", "T1")])[0]["stage"]
'shipped'

A crew on shift 08:00-20:00 holds a night order back until 08:00:

>>> night = WmsState(clock, WmsConfig(groups={"day": {"workers": 1,
...                                           "shifts": [["08:00", "20:00"]]}}))
>>> _ = night.dispatch([{"key": "k2", "channel": "jd", "order_id": "J2",
...                      "packing_group": "day"}])
>>> clock.advance(6 * 3600); night.lookup([("jd", "", "J2")])[0]["stage"]
'dispatched'
>>> clock.advance(2 * 3600); night.lookup([("jd", "", "J2")])[0]["times"]["picked"]
'2026-11-11T08:02:00+08:00'
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.clock import Clock
from sim.emulators.backoffice import problems
from sim.emulators.crews import PackingGroup
from sim.emulators.warehouse_config import (
    Carrier,
    ChangeLine,
    DispatchLine,
    ServiceTimes,
    WmsConfig,
)
from sim.emulators.warp import WarpClock
from sim.emulators.wms_records import Key, WmsOrder, WmsRecords

__all__ = ["Carrier", "Key", "ServiceTimes", "WmsConfig", "WmsOrder", "WmsState"]

STAGES = ("dispatched", "picked", "packed", "shipped")
BEFORE_PACKED = ("dispatched", "picked")
LANE_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
OPEN = "open"  # a wake-up event: a packing group's shift begins


class WmsState:
    """The warehouse's orders and work. Thread-safe (HTTP server + callback thread)."""

    def __init__(self, clock: Clock, config: WmsConfig | None = None,
                 on_dispatch: Callable[[list[WmsOrder]], None] | None = None) -> None:
        self.clock = clock if isinstance(clock, WarpClock) else WarpClock(clock)
        self.config = config or WmsConfig()
        self.on_dispatch = on_dispatch
        self._lock = threading.RLock()
        self._orders: dict[str, WmsOrder] = {}  # by idempotency key
        self._by_ident: dict[Key, list[WmsOrder]] = {}  # every warehouse order of it
        self._results: dict[str, dict[str, Any]] = {}
        self._changes: dict[tuple[str, str], dict[str, Any]] = {}  # (op, key) -> answer
        self._waiting: dict[str, list[tuple[int, int, str]]] = {}  # group -> heap
        self._busy: Counter[str] = Counter()
        self._crews: dict[str, PackingGroup] = {}
        self._wakes: set[str] = set()  # groups with an OPEN event pending
        self._events: list[tuple[datetime, int, str, str]] = []  # (at, n, stage, key)
        self._log: list[dict[str, Any]] = []  # status events; seq = index + 1
        self._n = itertools.count(1)
        self._order_no = itertools.count(1)
        self._now = self.clock.now()
        rng = random.Random(self.config.seed)
        self._tracking_base = {d: rng.randrange(10 ** (c.digits - 1), 9 * 10 ** (c.digits - 1))
                               for d, c in self.config.carriers.items()}
        self._tracking_n: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.records = WmsRecords(self.clock)

    def fast_forward(self, factor: float) -> datetime:
        """From now on the warehouse's business time runs ``factor`` times as fast as
        the clock it was given (work done so far keeps its times); returns now."""
        with self._lock:
            self.advance()
            now = self.clock.fast_forward(factor)
            self.counts["fast_forwards"] += 1
            return now

    # -- dispatch ------------------------------------------------------------------------
    def dispatch(self, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take a batch; one result per line, in order. A repeated key returns the first
        result, marked duplicate; a new key for an order already held makes a second
        warehouse order."""
        with self._lock:
            self.advance()
            lines = list(lines)
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
                known = self._orders.get(line.key)
                if known is not None:
                    self.counts["duplicates"] += 1
                    results.append({**self._results[known.key], "status": "duplicate",
                                    "stage": known.stage})
                    continue
                ident = (line.channel, line.shop, line.order_id)
                if ident in self._by_ident:
                    self.counts["second_orders"] += 1
                order = self._accept(line, ident)
                fresh.append(order)
                results.append(self._results[order.key])
            self.records.request("dispatch", lines, results)
            if fresh and self.on_dispatch is not None:
                self.on_dispatch(fresh)
            return results

    def _accept(self, line: DispatchLine, ident: Key) -> WmsOrder:
        seq = next(self._n)
        order = WmsOrder(key=line.key, ident=ident, wms_no=f"WMS{next(self._order_no):09d}",
                         lane=line.lane, group=line.packing_group or f"lane-{line.lane}",
                         delivery=line.delivery, warehouse=line.warehouse_hint,
                         items=line.items, receiver=line.receiver, ship_by=line.ship_by,
                         carrier_wanted=line.carrier, dispatched_at=self._now, seq=seq)
        order.times["dispatched"] = self._now.isoformat()
        self._hold(order)
        self._results[order.key] = {"key": order.key, "status": "accepted",
                                    "wms_order_no": order.wms_no}
        self.counts["accepted"] += 1
        rank = LANE_RANK.get(order.lane, len(LANE_RANK)) if self.config.priority else 0
        heapq.heappush(self._waiting.setdefault(order.group, []), (rank, seq, order.key))
        self._start(order.group)
        return order

    def _hold(self, order: WmsOrder) -> None:
        self._orders[order.key] = order
        self._by_ident.setdefault(order.ident, []).append(order)
        self.records.orders.append(order)

    # -- intercept and amend ----------------------------------------------------------------
    def intercept(self, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stop every warehouse order of each marketplace order that is not yet packed."""
        return self._change("intercept", lines)

    def amend(self, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Change the receiver and/or items of every warehouse order of each marketplace
        order that is not yet packed."""
        return self._change("amend", lines)

    def _change(self, op: str, lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            self.advance()
            lines = list(lines)
            results = [self._change_one(op, n, raw) for n, raw in enumerate(lines)]
            self.records.request(op, lines, results)
            return results

    def _change_one(self, op: str, n: int, raw: Any) -> dict[str, Any]:
        try:
            line = ChangeLine.model_validate(raw)
        except ValidationError as exc:
            return self._refused(op, raw, "; ".join(problems(exc, f"orders[{n}]")))
        if op == "amend" and line.receiver is None and line.items is None:
            return self._refused(op, raw, f"orders[{n}]: receiver or items is needed")
        first = self._changes.get((op, line.key))
        if first is not None:
            self.counts[f"{op}_duplicates"] += 1
            return {**first, "status": "duplicate", "first_status": first["status"]}
        ident = (line.channel, line.shop, line.order_id)
        held = self._by_ident.get(ident, [])
        answer = {"key": line.key, "channel": line.channel, "shop": line.shop,
                  "order_id": line.order_id}
        if not held:
            self.counts[f"{op}_unknown"] += 1
            answer |= {"status": "unknown", "stage": None}
            self._changes[(op, line.key)] = answer
            return answer
        open_ = [o for o in held if o.stage in BEFORE_PACKED]
        for order in open_:
            if op == "intercept":
                self._stop(order, line.key)
            else:
                order.amend(self._now, line.key, line.receiver, line.items)
        late = [o for o in held if o.stage not in BEFORE_PACKED and o.stage != "intercepted"]
        if op == "amend":
            late += [o for o in held if o.stage == "intercepted"]  # it will never ship
        done = "intercepted" if op == "intercept" else "amended"
        status = "too_late" if late else done
        stage = (late[0] if late else held[0]).stage
        self.counts[f"{op}_{status}"] += 1
        answer |= {"status": status, "stage": stage,
                   "wms_orders": [{"wms_order_no": o.wms_no, "stage": o.stage} for o in held]}
        self._changes[(op, line.key)] = answer
        return answer

    def _refused(self, op: str, raw: Any, reason: str) -> dict[str, Any]:
        self.counts[f"{op}_rejected"] += 1
        return {"key": raw.get("key") if isinstance(raw, dict) else None,
                "status": "rejected", "reason": reason}

    def _stop(self, order: WmsOrder, key: str) -> None:
        self._release(order)
        order.stage = "intercepted"
        order.times["intercepted"] = self._now.isoformat()
        order.intercepted_by = key

    # -- the work ------------------------------------------------------------------------
    def _crew(self, group: str) -> PackingGroup:
        crew = self._crews.get(group)
        if crew is None:
            crew = self._crews[group] = self.config.crew(group)
        return crew

    def workers(self, group: str) -> int:
        return self._crew(group).workers

    def _service(self, lane: str) -> ServiceTimes:
        return self.config.service.get(lane, self.config.default_service)

    def _start(self, group: str) -> None:
        waiting = self._waiting.get(group)
        if not waiting:
            return
        crew = self._crew(group)
        if not crew.open_at(self._now):
            self._wake_later(group, crew)
            return
        while waiting and self._busy[group] < crew.workers:
            order = self._orders.get(heapq.heappop(waiting)[2])
            if order is None or order.stage != "dispatched" or order.working:
                continue  # dropped, planted or intercepted meanwhile
            self._busy[group] += 1
            order.working = True
            picked = self._now + timedelta(seconds=self._service(order.lane).pick_s)
            heapq.heappush(self._events, (picked, next(self._n), "picked", order.key))

    def _wake_later(self, group: str, crew: PackingGroup) -> None:
        if group in self._wakes or crew.workers == 0:
            return
        opens = crew.next_open(self._now)
        if opens is not None:
            self._wakes.add(group)
            heapq.heappush(self._events, (opens, next(self._n), OPEN, group))

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
                if stage == OPEN:
                    self._wakes.discard(key)
                    self._start(key)
                    continue
                order = self._orders.get(key)
                if order is None or order.stage == "intercepted":
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
                if stage == "shipped":
                    self.records.shipped(order)
                produced += 1
            self._now = max(self._now, now)
        return produced

    def _carrier(self, order: WmsOrder) -> tuple[str, Carrier]:
        carriers = self.config.carriers
        for kind, carrier in carriers.items():
            if order.carrier_wanted and carrier.name == order.carrier_wanted:
                return kind, carrier
        kind = order.delivery if order.delivery in carriers else next(iter(carriers))
        return kind, carriers[kind]

    def _ship(self, order: WmsOrder) -> None:
        kind, carrier = self._carrier(order)
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
        """The WMS's view of every warehouse order of each order asked for, oldest
        first (unknown orders are left out)."""
        self.advance()
        with self._lock:
            return [o.view() for i in idents for o in self._by_ident.get(tuple(i), ())]

    # -- planted mismatches (tests and fault drills) --------------------------------------
    def plant_shipped(self, ident: Key, *, report: bool = False,
                      delivery: str = "standard") -> dict[str, Any]:
        """An order the WMS says it shipped although the hub never dispatched it (or
        that jumps ahead of its real work). Silent unless ``report``."""
        with self._lock:
            self.advance()
            held = self._by_ident.get(ident)
            if held:
                order = held[0]
            else:
                order = WmsOrder(key=f"planted:{':'.join(ident)}", ident=ident,
                                 wms_no=f"WMS{next(self._order_no):09d}", lane="P2",
                                 group="planted", delivery=delivery, warehouse=None,
                                 items=[], dispatched_at=self._now, seq=next(self._n))
                self._hold(order)
                self._results[order.key] = {"key": order.key, "status": "accepted",
                                            "wms_order_no": order.wms_no}
            self._events = [e for e in self._events if e[3] != order.key]
            heapq.heapify(self._events)
            self._release(order)
            order.planted = "shipped"
            self._ship(order)
            self._set_stage(order, "shipped", self._now, report=report)
            self.records.shipped(order)
            self.counts["planted_shipped"] += 1
            return order.view()

    def drop(self, ident: Key) -> bool:
        """The WMS loses an order (it answers as if it never had it)."""
        with self._lock:
            self.advance()
            held = self._by_ident.pop(ident, None)
            if not held:
                return False
            for order in held:
                del self._orders[order.key]
                self._events = [e for e in self._events if e[3] != order.key]
                self._release(order)
                order.times["dropped"] = self._now.isoformat()
            heapq.heapify(self._events)
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
                    "status_events": len(self._log), "counts": dict(self.counts),
                    "clock": self.clock.as_dict()}

    def export(self) -> dict[str, Any]:
        """The WMS's records (contract §2 wms.json), after running the work to now."""
        with self._lock:
            self.advance()
            return self.records.export()
