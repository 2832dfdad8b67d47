"""What a rehearsal measured, from the ledger's events and the trace's ground truth.

Latency runs from the moment the order was created at the marketplace (its scheduled
time in the trace), never from when the hub asked for it, so a slow hub cannot hide
its own queueing, to the hub's first routing decision on it. Business latency = the
wait for the pull (creation to the scheduled start of the pull that took its first
version in; business time, as the pull interval was scaled down by the speed-up)
plus the hub's own time, as measured on the wall, unscaled (the hub works at real
speed under a compressed, so heavier, load): pulling (from the pull's scheduled
start, or the creation if later, to the version's arrival in the ledger; a pull
starts late when the one before it overran) and processing (from there to the first
decision, whichever version it was on).

The strict figure (``latency_strict_s``) counts the whole wait to be received in
business time, so a pull that starts half a wall second late at a speed-up of 60
adds half a business minute to its orders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

PLANTED = ("incomplete_address", "remote_standard_express", "payment_mismatch",
           "duplicate_order", "invalid_phone")


@dataclass
class Outcome:
    """One order as the ledger saw it."""

    received_at: datetime | None = None  # the first version the hub took in
    pull_due: datetime | None = None  # the scheduled start of the pull that took it in
    decided_at: datetime | None = None  # the first decision, on whichever version
    shipped_at: datetime | None = None
    lane: str = ""
    held: bool = False
    remedied: bool = False
    anomalies: tuple[str, ...] = ()
    decisions_per_version: Counter = field(default_factory=Counter)


def stats(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    arr = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"mean": round(float(arr.mean()), 3), "p50": round(float(p50), 3),
            "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(arr.max()), 3), "n": int(arr.size)}


@dataclass(frozen=True)
class Latency:
    """One order's delay, in seconds (see the module's docstring)."""

    business: float
    wait_for_pull: float  # business time
    pulling: float  # wall time
    processing: float  # wall time
    strict: float  # the whole wait to be received in business time
    wall: float  # what the run's own clock showed


def latency(created: datetime, outcome: Outcome, speedup: float,
            pulled: bool = True) -> Latency:
    """In push mode there is no pull interval to scale back: the whole of it is measured
    wall time. Without the pull's schedule, the pull is taken to have started on time."""
    assert outcome.received_at is not None and outcome.decided_at is not None
    received = outcome.received_at
    start = received if outcome.pull_due is None else min(outcome.pull_due, received)
    start = max(start, created)
    waited_wall = max((start - created).total_seconds(), 0.0) / speedup
    pulling = max((received - start).total_seconds(), 0.0) / speedup
    processing = max((outcome.decided_at - received).total_seconds(), 0.0) / speedup
    wait = waited_wall * speedup if pulled else waited_wall
    strict_wait = (waited_wall + pulling) * (speedup if pulled else 1.0)
    return Latency(wait + pulling + processing, wait, pulling, processing,
                   strict_wait + processing, waited_wall + pulling + processing)


def summarise(
    created: Mapping[tuple, datetime],
    truth: Mapping[tuple, Iterable[str]],
    outcomes: Mapping[tuple, Outcome],
    *,
    speedup: float,
    origin: datetime,
    pulled: bool = True,
) -> tuple[dict, dict]:
    """The summary's order, latency and anomaly sections, and the series for the plots."""
    lat_all: list[float] = []
    waits: list[float] = []
    pulls: list[float] = []
    procs: list[float] = []
    stricts: list[float] = []
    walls: list[float] = []
    by_lane: dict[str, list[float]] = defaultdict(list)
    lane_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    detection: list[float] = []
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    decided = duplicated = held = remedied = shipped = ingested = 0
    unexpected = [k for k in outcomes if k not in created]
    for key, made in created.items():
        out = outcomes.get(key)
        planted = set(truth.get(key, ())) & set(PLANTED)
        found = set(out.anomalies) & set(PLANTED) if out else set()
        for code in planted & found:
            tp[code] += 1
        for code in found - planted:
            fp[code] += 1
        for code in planted - found:
            fn[code] += 1
        if out is None or out.decided_at is None:
            continue
        ingested += out.received_at is not None
        decided += 1
        duplicated += sum(n - 1 for n in out.decisions_per_version.values() if n > 1)
        held += out.held
        remedied += out.remedied
        shipped += out.shipped_at is not None
        if out.received_at is None:
            continue
        one = latency(made, out, speedup, pulled)
        total = one.business
        lat_all.append(total)
        walls.append(one.wall)
        waits.append(one.wait_for_pull)
        pulls.append(one.pulling)
        procs.append(one.processing)
        stricts.append(one.strict)
        by_lane[out.lane].append(total)
        lane_points[out.lane].append(((made - origin).total_seconds(), total))
        if planted and found:
            detection.append(total)
    injected = sum(1 for k in created if set(truth.get(k, ())) & set(PLANTED))
    detected = sum(1 for k in created if outcomes.get(k) and
                   set(outcomes[k].anomalies) & set(PLANTED))
    n_tp, n_fp, n_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    summary = {
        "orders": {"generated": len(created), "ingested": ingested, "decided": decided,
                   "lost": len(created) - decided, "duplicated": duplicated,
                   "unexpected": len(unexpected), "shipped": shipped},
        "latency_s": {"all": stats(lat_all), **{lane: stats(v) for lane, v in
                                                  sorted(by_lane.items())}},
        "latency_parts_s": {"wait_for_pull": stats(waits), "pulling": stats(pulls),
                            "processing": stats(procs)},
        "latency_strict_s": stats(stricts),
        "latency_wall_s": stats(walls),
        "anomalies": {
            "injected": injected, "detected": detected,
            "precision": round(n_tp / (n_tp + n_fp), 4) if n_tp + n_fp else None,
            "recall": round(n_tp / (n_tp + n_fn), 4) if n_tp + n_fn else None,
            "by_reason": {code: {"true_positive": tp[code], "false_positive": fp[code],
                                 "missed": fn[code]} for code in PLANTED},
            "detection_latency_s": {"mean": stats(detection)["mean"],
                                    "p99": stats(detection)["p99"]},
        },
        "manual_ratio": round(held / decided, 4) if decided else None,
        "auto_remedied": remedied,
    }
    series = {"latency_by_lane": dict(lane_points), "detection_latency": detection}
    return summary, series
