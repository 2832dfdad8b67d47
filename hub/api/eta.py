"""Expected completion time: when an order should reach ``shipped``, from how long the
stages it still has to pass have recently taken in its lane.

The ledger's ``stage_durations(since)`` gives, per lane, the median time between two
consecutive stages of an order (``{"lane", "from", "to", "n", "p50_s", ...}`` rows).
From the stage an order stands in, the estimate follows the most common forward step
of its lane (a lane with no recent figure for a stage borrows the figure of all lanes)
until ``shipped``, adding the median of each step; for the current stage only what is
left of its median counts.

>>> from datetime import datetime, timedelta
>>> from hub.domain.order import SHANGHAI
>>> t0 = datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)
>>> rows = [{"lane": "P0", "from": "routed", "to": "dispatched", "n": 9, "p50_s": 60.0},
...         {"lane": "P0", "from": "dispatched", "to": "picked", "n": 9, "p50_s": 120.0},
...         {"lane": "P1", "from": "picked", "to": "packed", "n": 5, "p50_s": 100.0},
...         {"lane": "P0", "from": "packed", "to": "shipped", "n": 9, "p50_s": 300.0}]
>>> eta = estimate("released", t0, "P0", typical_steps(rows), now=t0 + timedelta(seconds=20))
>>> eta.state, eta.remaining_s, eta.expected_at.strftime("%H:%M:%S")
('estimated', 560.0, '10:09:40')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.domain.decision import Stage

# Where on the way to the buyer each stage is; a step forward goes to a higher number.
PHASE = {Stage.RECEIVED: 0, Stage.VALIDATED: 1, Stage.SCORED: 2, Stage.ROUTED: 3,
         Stage.AUTO_REMEDIED: 3, Stage.RELEASED: 3, Stage.DISPATCHED: 4, Stage.PICKED: 5,
         Stage.PACKED: 6, Stage.SHIPPED: 7}
# A stage with no figures of its own borrows those of its twin.
TWIN = {Stage.RELEASED: Stage.ROUTED, Stage.AUTO_REMEDIED: Stage.ROUTED}
ALL_LANES = "*"
DONE = Stage.SHIPPED

Steps = Mapping[str, Mapping[str, tuple[str, float]]]  # lane -> from -> (to, median s)


@dataclass(frozen=True, slots=True)
class Eta:
    state: str  # estimated | done | held | cancelled | unknown
    expected_at: datetime | None = None
    remaining_s: float | None = None
    basis: str = ""


def typical_steps(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, tuple[str, float]]]:
    """Per lane (and ``"*"`` for all lanes), the most common forward step out of each
    stage and its median seconds."""
    seen: dict[str, dict[tuple[str, str], list[tuple[int, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for row in rows:
        before, after = row["from"], row["to"]
        if PHASE.get(after, -1) <= PHASE.get(before, 99):
            continue  # holds, cancellations, mismatches and repeats are not steps forward
        figure = (int(row["n"]), float(row["p50_s"]))
        seen[row["lane"] or ALL_LANES][(before, after)].append(figure)
        if row["lane"]:
            seen[ALL_LANES][(before, after)].append(figure)
    steps: dict[str, dict[str, tuple[str, float]]] = {}
    for lane, pairs in seen.items():
        best: dict[str, tuple[int, str, float]] = {}
        for (before, after), figures in pairs.items():
            n = sum(count for count, _ in figures)
            median = sum(count * p50 for count, p50 in figures) / max(n, 1)
            if before not in best or n > best[before][0]:
                best[before] = (n, after, median)
        steps[lane] = {before: (after, median) for before, (_, after, median) in best.items()}
    return steps


def _step(steps: Steps, lane: str | None, stage: str) -> tuple[str, float] | None:
    for name in (stage, TWIN.get(stage)):
        for key in (lane, ALL_LANES):
            if name is not None and key is not None and name in steps.get(key, {}):
                return steps[key][name]
    return None


def estimate(stage: str, entered_at: datetime | None, lane: str | None, steps: Steps,
             now: datetime) -> Eta:
    """The expected completion of an order standing in ``stage`` since ``entered_at``."""
    if stage == DONE:
        return Eta("done", entered_at, 0.0, DONE.value)
    if stage == Stage.CANCELLED:
        return Eta("cancelled", basis=Stage.CANCELLED.value)
    if stage == Stage.HELD:
        return Eta("held", basis="a held order waits for a person; estimated once released")
    if stage not in PHASE:
        return Eta("unknown", basis=f"stage {stage} is off the way to the buyer")
    remaining, where, first = 0.0, stage, True
    while where != DONE:
        step = _step(steps, lane, where)
        if step is None:
            return Eta("unknown", basis=f"no recent durations of the step after {where}")
        where, seconds = step
        if first and entered_at is not None:
            seconds = max(seconds - (now - entered_at).total_seconds(), 0.0)
        first = False
        remaining += seconds
    return Eta("estimated", now + timedelta(seconds=remaining), round(remaining, 3),
               f"recent median stage durations in lane {lane or 'any'}")
