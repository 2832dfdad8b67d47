"""The packing groups as a SimPy model: each group's workers take waiting orders by
priority then arrival, hold one for its lane's pick and pack time, and start no new work
outside their shifts (the WMS emulator's work model, ``sim.emulators.warehouse``).

An order whose cancellation reached the warehouse before a worker took it is stopped.
An order a clerk flagged before a worker took it (the old flow's patrols) is taken out
and comes back once a person fixed it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import simpy

DAY_S = 86400.0


@dataclass
class Crew:
    """A packing group's workers and the shifts in which they start new work, as
    ``[start, end)`` second spans within a day (overnight shifts split in two)."""

    workers: int
    spans: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, DAY_S)])

    def next_open(self, t: float) -> float:
        """``t`` if the group starts work at ``t``, else when its next shift begins."""
        day, within = divmod(t, DAY_S)
        if any(lo <= within < hi for lo, hi in self.spans):
            return t
        later = [lo for lo, _ in self.spans if lo > within]
        if later:
            return day * DAY_S + min(later)
        return (day + 1) * DAY_S + min(lo for lo, _ in self.spans)


def spans_of(shifts: list[tuple[str, str]] | list[list[str]]) -> list[tuple[float, float]]:
    """``[["22:00", "06:00"]]`` -> ``[(79200.0, 86400.0), (0.0, 21600.0)]``."""
    out: list[tuple[float, float]] = []
    for start, end in shifts:
        lo, hi = (60.0 * (int(x[:2]) * 60 + int(x[3:])) for x in (start, end))
        out.extend([(lo, hi)] if lo < hi else [s for s in ((lo, DAY_S), (0.0, hi))
                                               if s[0] < s[1]])
    return out


@dataclass
class Work:
    """What the warehouse is given, one row per order."""

    enter: np.ndarray  # when it is dispatched to the warehouse (inf: never)
    group: np.ndarray  # int packing group
    priority: np.ndarray  # int: lower first
    work_s: np.ndarray  # worker seconds (pick + pack)
    stop_at: np.ndarray  # the cancellation reached the warehouse (inf: never)
    flagged_at: np.ndarray  # a clerk flagged it (inf: never); taken out if not yet started
    fixed_at: np.ndarray | None = None  # a person fixed it: a taken-out order comes back


@dataclass
class Done:
    started: np.ndarray  # inf: never started
    packed: np.ndarray  # inf: never packed
    stopped: np.ndarray  # bool: cancelled before a worker took it
    intercepted: np.ndarray  # bool: flagged before a worker took it (fixed, then packed)


class _Group:
    __slots__ = ("crew", "env", "idle", "queue")

    def __init__(self, env: simpy.Environment, crew: Crew) -> None:
        self.env, self.crew = env, crew
        self.queue: list[tuple[int, float, int]] = []
        self.idle: list[simpy.Event] = []

    def put(self, key: tuple[int, float, int]) -> None:
        heapq.heappush(self.queue, key)
        if self.idle:
            self.idle.pop().succeed()


def pack(work: Work, crews: list[Crew]) -> Done:
    """Run the warehouse until every order that entered is packed or stopped."""
    n = work.enter.size
    started, packed = np.full(n, np.inf), np.full(n, np.inf)
    stopped, intercepted = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    env = simpy.Environment()
    groups = [_Group(env, c) for c in crews]
    enter, prio, group = work.enter.tolist(), work.priority.tolist(), work.group.tolist()
    work_s, stop_at, flagged = work.work_s.tolist(), work.stop_at.tolist(), \
        work.flagged_at.tolist()
    fixed_at = (work.fixed_at if work.fixed_at is not None else work.flagged_at).tolist()
    fixed = set()

    def feeder():
        order = np.argsort(work.enter, kind="stable").tolist()
        for i in order:
            at = enter[i]
            if at == np.inf:
                break
            if at > env.now:
                yield env.timeout(at - env.now)
            groups[group[i]].put((prio[i], at, i))

    def back_later(i: int, at: float):
        yield env.timeout(max(at - env.now, 0.0))
        groups[group[i]].put((prio[i], enter[i], i))

    def worker(g: _Group):
        while True:
            opens = g.crew.next_open(env.now)
            if opens > env.now:
                yield env.timeout(opens - env.now)
            if not g.queue:
                wake = env.event()
                g.idle.append(wake)
                yield wake
                continue
            i = heapq.heappop(g.queue)[2]
            now = env.now
            if stop_at[i] <= now:
                stopped[i] = True
                continue
            if flagged[i] <= now and i not in fixed:
                fixed.add(i)
                intercepted[i] = True
                env.process(back_later(i, fixed_at[i]))
                continue
            started[i] = now
            yield env.timeout(work_s[i])
            packed[i] = env.now

    env.process(feeder())
    for g in groups:
        for _ in range(g.crew.workers):
            env.process(worker(g))
    env.run()
    return Done(started, packed, stopped, intercepted)


def carrier(packed: np.ndarray, ship_s: np.ndarray, cutoffs: list[float]) -> np.ndarray:
    """When each packed order leaves with its carrier: ``ship_s`` after packing, or at
    the first pick-up (``cutoffs``: seconds of the day) at least that long after."""
    ready = packed + ship_s
    if not cutoffs:
        return ready
    cuts = np.sort(np.asarray(cutoffs, dtype=float))
    finite = np.isfinite(ready)
    day, within = np.divmod(ready[finite], DAY_S)
    i = np.searchsorted(cuts, within, side="left")
    nxt = np.where(i < cuts.size, day * DAY_S + cuts[np.minimum(i, cuts.size - 1)],
                   (day + 1) * DAY_S + cuts[0])
    out = ready.copy()
    out[finite] = nxt
    return out
