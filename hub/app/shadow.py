"""Shadow run: a candidate rule set (a draft) decides every live batch beside the rules in
force, acting on nothing: no dispatch, alert, hold or ledger row. The router calls
``ShadowRun.observe`` after it decided (and committed) a batch with the live rules; the
differences go into a bounded window of per-minute buckets (examples capped) that the
rule console reads.

The candidate reuses the live batch's checks (the anomalies found) and, when its priority
tables are the live ones, the scores; otherwise it scores the batch again with its own
tables. Its routing rules, anomaly policies and lanes decide. Only what the live path
would differ in is counted: lane, packing group, hold.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.app.rules import DryRunExample, Outcome, parse
from hub.domain.decision import Anomaly, Decision
from hub.domain.order import Order
from hub.domain.priority import Score, score_order, stock_states, tables
from hub.domain.routing import outcomes
from hub.domain.rules import RuleSet

log = logging.getLogger("orderhub.shadow")
WINDOW_MINUTES = 60
EXAMPLES_PER_MINUTE = 5
MAX_EXAMPLES = 20
KINDS = ("lane", "packing_group", "hold", "any")


@dataclass
class Bucket:
    minute: int  # minutes since the epoch
    batches: int = 0
    orders: int = 0
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    examples: list[DryRunExample] = field(default_factory=list)


@dataclass(frozen=True)
class ShadowReport:
    running: bool
    draft: int | None
    version: int | None
    since: datetime | None
    minutes: int
    batches: int = 0
    orders: int = 0
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    examples: list[DryRunExample] = field(default_factory=list)
    errors: int = 0


def _same_tables(a: RuleSet, b: RuleSet) -> bool:
    ta, tb = tables(a), tables(b)
    return (ta.weights, ta.raw, ta.lanes, ta.remote) == (tb.weights, tb.raw, tb.lanes, tb.remote)


class ShadowRun:
    """One candidate rule set deciding beside the live one; ``observe`` never raises."""

    def __init__(self, draft: int, candidate: RuleSet, since: datetime, *,
                 window_minutes: int = WINDOW_MINUTES,
                 examples_per_minute: int = EXAMPLES_PER_MINUTE) -> None:
        self.draft, self.candidate, self.since = draft, candidate, since
        self.buckets: deque[Bucket] = deque(maxlen=window_minutes)
        self.examples_per_minute = examples_per_minute
        self.errors = 0
        self.running = True
        self._same: tuple[int, bool] | None = None  # (id of the live rule set, same tables)

    def _bucket(self, at: datetime) -> Bucket:
        minute = int(at.timestamp() // 60)
        if not self.buckets or self.buckets[-1].minute != minute:
            self.buckets.append(Bucket(minute))
        return self.buckets[-1]

    def _scores(self, batch: Sequence[Order], scores: Sequence[Score], stocks: Any,
                live: RuleSet) -> Sequence[Score]:
        if self._same is None or self._same[0] != id(live):
            self._same = (id(live), _same_tables(live, self.candidate))
        if self._same[1]:
            return scores
        t = tables(self.candidate)
        if stocks is None:
            stocks = stock_states(batch, {}, t.low_stock)
        return [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]

    def observe(self, batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
                scores: Sequence[Score], decisions: Sequence[Decision], live: RuleSet,
                at: datetime, stocks: Any = None) -> None:
        """Decide ``batch`` with the candidate and count how it differs from the live
        ``decisions``. ``stocks``: the batch's stock states, for scoring again."""
        if not self.running:
            return
        try:
            self._observe(batch, anomalies, scores, decisions, live, at, stocks)
        except Exception:  # the live path must not fail for the shadow's sake
            self.errors += 1
            log.exception("shadow run of draft %d failed on a batch of %d", self.draft,
                          len(batch))

    def _observe(self, batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
                 scores: Sequence[Score], decisions: Sequence[Decision], live: RuleSet,
                 at: datetime, stocks: Any) -> None:
        shadow = outcomes(batch, anomalies, self._scores(batch, scores, stocks, live),
                          self.candidate)
        bucket = self._bucket(at)
        bucket.batches += 1
        bucket.orders += len(batch)
        changed = bucket.changed
        for d, (lane, group, hold, fired) in zip(decisions, shadow, strict=True):
            lane_moved, group_moved = d.lane != lane, d.packing_group != group
            hold_moved = d.hold_reason != hold
            if not (lane_moved or group_moved or hold_moved):
                continue
            changed["lane"] += lane_moved
            changed["packing_group"] += group_moved
            changed["hold"] += hold_moved
            changed["any"] += 1
            if len(bucket.examples) < self.examples_per_minute:
                bucket.examples.append(DryRunExample(
                    d.channel, d.shop, d.order_id,
                    Outcome(d.lane, d.packing_group, d.hold_reason),
                    Outcome(lane, group, hold), fired))

    def report(self, minutes: int, now: datetime) -> ShadowReport:
        since_minute = int(now.timestamp() // 60) - minutes
        recent = [b for b in self.buckets if b.minute > since_minute]
        changed = dict.fromkeys(KINDS, 0)
        for b in recent:
            for k in KINDS:
                changed[k] += b.changed[k]
        examples = [e for b in reversed(recent) for e in b.examples][:MAX_EXAMPLES]
        return ShadowReport(self.running, self.draft, self.candidate.version, self.since,
                            minutes, sum(b.batches for b in recent),
                            sum(b.orders for b in recent), changed, examples, self.errors)


class ShadowSlot:
    """The shadow run a process holds (the router's, or ``LocalShadow``'s): start,
    stop, report. A stopped run's figures stay readable until the next start."""

    def __init__(self) -> None:
        self.run: ShadowRun | None = None

    def start(self, draft: int, version: int, text: str, at: datetime) -> datetime:
        self.run = ShadowRun(draft, parse(text, f"draft-{draft}"), at)
        return at

    def stop(self) -> None:
        if self.run is not None:
            self.run.running = False

    def active(self) -> ShadowRun | None:
        run = self.run
        return run if run is not None and run.running else None

    def report(self, minutes: int, now: datetime) -> ShadowReport:
        if self.run is None:
            return ShadowReport(False, None, None, None, minutes)
        return self.run.report(minutes, now)


class LocalShadow:
    """A ``ShadowRunner`` in this process, for a console without a router (tests, a
    single-process tool): ``observe_orders`` decides orders as the live path would (no
    stock snapshot) and hands them to the shadow run."""

    def __init__(self, clock: Any) -> None:
        self.clock, self.slot = clock, ShadowSlot()

    def start_shadow(self, draft: int, version: int, text: str) -> datetime:
        return self.slot.start(draft, version, text, self.clock.now())

    def stop_shadow(self) -> None:
        self.slot.stop()

    def shadow_report(self, minutes: int) -> ShadowReport:
        return self.slot.report(minutes, self.clock.now())

    def observe_orders(self, orders: Sequence[Order], live: RuleSet) -> None:
        from hub.domain.anomalies import find_anomalies
        from hub.domain.routing import route

        run = self.slot.active()
        if run is None:
            return
        batch = list(orders)
        t = tables(live)
        stocks = stock_states(batch, {}, t.low_stock)
        found = find_anomalies(batch, {}, [], live, stocks)
        scores = [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
        run.observe(batch, found, scores, route(batch, found, scores, live), live,
                    self.clock.now(), stocks)
