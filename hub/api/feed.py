"""What the dashboard and ``/metrics`` learn from the ledger's event stream, read
incrementally (only events after the last one seen): orders received and shipped per
minute, and the decision latency (received -> decided) of each lane, as recent samples
for percentiles and as a cumulative Prometheus histogram.

>>> percentile([1.0, 2.0, 3.0, 4.0], 0.5), percentile([], 0.9)
(2.0, None)
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.clock import Clock
from hub.domain.decision import Stage

DECIDED = frozenset({Stage.VALIDATED, Stage.ROUTED, Stage.HELD, Stage.AUTO_REMEDIED})
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
HISTORY = timedelta(minutes=60)  # per-minute counts and latency samples kept
START_BACK = timedelta(minutes=30)  # how far back the first read goes
READ_LIMIT = 20_000  # events per read; the rest come at the next read
LANE_LOOKUPS = 5_000  # decided orders whose lane is looked up per read


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q * len(ordered)), 1)  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Histogram:
    buckets: tuple[float, ...] = BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    n: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def cumulative(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip((*self.buckets, math.inf), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == math.inf else f"{bound:g}", running))
        return out


class EventFeed:
    """Reads ``ledger.events_since(after_id=...)``; thread-safe; call ``refresh()`` before
    reading the figures."""

    def __init__(self, ledger: Any, clock: Clock) -> None:
        self.ledger, self.clock = ledger, clock
        self._lock = threading.Lock()
        self.after_id = 0
        self.started = False
        self.per_minute: dict[datetime, dict[str, int]] = defaultdict(
            lambda: {Stage.RECEIVED: 0, Stage.SHIPPED: 0})
        self.samples: dict[str, deque[tuple[datetime, float]]] = defaultdict(deque)
        self.histograms: dict[str, Histogram] = defaultdict(Histogram)
        self._received: dict[tuple[str, str, str], datetime] = {}
        self._lanes: dict[tuple[str, str, str], str] = {}

    def refresh(self) -> None:
        with self._lock:
            now = self.clock.now()
            since = None if self.started else now - START_BACK
            events = self.ledger.events_since(since=since, after_id=self.after_id,
                                              limit=READ_LIMIT)
            self.started = True
            decided = []
            for e in events:
                self.after_id = max(self.after_id, e.id)
                minute = e.at.replace(second=0, microsecond=0)
                if e.stage == Stage.RECEIVED:
                    self.per_minute[minute][Stage.RECEIVED] += 1
                    self._received[e.key] = e.at
                elif e.stage == Stage.SHIPPED:
                    self.per_minute[minute][Stage.SHIPPED] += 1
                elif e.stage in DECIDED and e.key in self._received:
                    decided.append((e.key, e.at, self._received.pop(e.key)))
            self._observe(decided)
            self._forget(now)

    def _lane(self, key: tuple[str, str, str], budget: list[int]) -> str | None:
        lane = self._lanes.get(key)
        if lane is None and budget[0] > 0:
            budget[0] -= 1
            found = [s for s in self.ledger.find_orders(order_id=key[2], channel=key[0], limit=20)
                     if s.key == key]
            lane = found[0].lane if found else None
            if lane:
                self._lanes[key] = lane
        return lane

    def _observe(self, decided: list[tuple[tuple[str, str, str], datetime, datetime]]) -> None:
        budget = [LANE_LOOKUPS]
        for key, at, received in decided:
            lane = self._lane(key, budget) or "none"
            seconds = max((at - received).total_seconds(), 0.0)
            self.samples[lane].append((at, seconds))
            self.histograms[lane].observe(seconds)

    def _forget(self, now: datetime) -> None:
        horizon = now - HISTORY
        for minute in [m for m in self.per_minute if m < horizon]:
            del self.per_minute[minute]
        for samples in self.samples.values():
            while samples and samples[0][0] < horizon:
                samples.popleft()
        if len(self._received) > 200_000:  # orders never decided: keep the newest
            for key in list(self._received)[:100_000]:
                del self._received[key]
        if len(self._lanes) > 200_000:
            self._lanes.clear()

    # -- figures ------------------------------------------------------------------------------
    def latency(self, lane: str, window: timedelta = timedelta(minutes=15)) -> dict[str, Any]:
        """Decision latency percentiles of ``lane`` over the last ``window``."""
        with self._lock:
            horizon = self.clock.now() - window
            values = [s for at, s in self.samples.get(lane, ()) if at >= horizon]
        return {"p50": percentile(values, 0.5), "p90": percentile(values, 0.9),
                "p99": percentile(values, 0.99), "n": len(values)}

    def minutes(self, count: int) -> list[tuple[datetime, int, int]]:
        """(minute, received, shipped) for the last ``count`` minutes, oldest first."""
        with self._lock:
            last = self.clock.now().replace(second=0, microsecond=0)
            out = []
            for back in range(count - 1, -1, -1):
                minute = last - timedelta(minutes=back)
                row = self.per_minute.get(minute, {})
                out.append((minute, row.get(Stage.RECEIVED, 0), row.get(Stage.SHIPPED, 0)))
            return out

    def histogram_lines(self) -> dict[str, Histogram]:
        with self._lock:
            return {lane: Histogram(h.buckets, list(h.counts), h.total, h.n)
                    for lane, h in self.histograms.items()}
