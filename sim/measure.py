"""What a rehearsal measured: the headline delay from outside (payment at the
marketplace to the WMS accepting the dispatch, ``latency_to_wms``) and, as a second
opinion, the hub's ledger (``summarise``: decision latency, ledger-counted orders).

Both delays use one rule for time: the wait for the pull that took the order in is
counted in business time (the pull interval was scaled down by the speed-up); what
follows, the hub's own work, in wall time, unscaled (the hub works at real speed under
a compressed, so heavier, load). The strict figures count everything in business time.

Decision latency (secondary, from the ledger) runs from the moment the order was
created at the marketplace (its scheduled time in the trace), never from when the hub
asked for it, so a slow hub cannot hide its own queueing, to the hub's first routing
decision on it. Business latency = the wait for the pull (creation to the scheduled
start of the pull that took its first version in; business time) plus the hub's own
time, measured on the wall: pulling (from the pull's scheduled start, or the creation
if later, to the version's arrival in the ledger; a pull starts late when the one
before it overran) and processing (from there to the first decision, whichever
version it was on).

The strict figure (``latency_to_decision_strict_s``) counts the whole wait to be
received in business time, so a pull that starts half a wall second late at a
speed-up of 60 adds half a business minute to its orders.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sim.verdict import Outside, stats

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
                   "shipped": shipped},
        "latency_to_decision_s": {"all": stats(lat_all), **{lane: stats(v) for lane, v in
                                                              sorted(by_lane.items())}},
        "latency_to_decision_parts_s": {"wait_for_pull": stats(waits), "pulling": stats(pulls),
                                        "processing": stats(procs)},
        "latency_to_decision_strict_s": stats(stricts),
        "latency_to_decision_wall_s": stats(walls),
        "ledger_opinion": {"lost": len(created) - decided, "duplicated": duplicated,
                           "unexpected": len(unexpected), "anomalies": {
            "injected": injected, "detected": detected,
            "precision": round(n_tp / (n_tp + n_fp), 4) if n_tp + n_fp else None,
            "recall": round(n_tp / (n_tp + n_fn), 4) if n_tp + n_fn else None,
            "by_reason": {code: {"true_positive": tp[code], "false_positive": fp[code],
                                 "missed": fn[code]} for code in PLANTED},
            "detection_latency_s": {"mean": stats(detection)["mean"],
                                    "p99": stats(detection)["p99"]},
        }},
        "manual_ratio": round(held / decided, 4) if decided else None,
        "auto_remedied": remedied,
    }
    series = {"latency_by_lane": dict(lane_points), "detection_latency": detection}
    return summary, series


Pulls = Mapping[tuple[str, str], Sequence[tuple[float, float]]]  # (asked, due) epoch s, sorted


def _pull_for(pulls: Pulls, key: tuple, paid: float) -> tuple[float, float] | None:
    """The first pull of the order's puller that asked after the payment (it took the
    paid version in): (asked, due)."""
    mine = pulls.get((key[0], key[1])) or pulls.get((key[0], ""))
    if not mine:
        return None
    i = bisect.bisect_left(mine, (paid, -math.inf))
    return mine[i] if i < len(mine) else None


def latency_to_wms(outside: Outside, *, speedup: float, pulled: bool = True,
                   pulls: Pulls | None = None) -> dict[str, Any]:
    """Payment at the marketplace (trace) to the WMS accepting the dispatch (wms records),
    over the owed orders that reached the WMS and were not held (named in no alert).

    Pulled: the wait from payment to the start of the pull that took the paid version
    in (its due time, or when it asked if that was earlier; never before the payment)
    counts in business time, the rest in wall time (business / speed-up). Without the
    pull schedule the split is unknown and the strict figure stands for both
    (``split: false``). Pushed: all of it is the hub's, wall time."""
    pulls = pulls or {}
    split = not pulled or bool(pulls)
    rows: list[tuple[str, str, float, float, float]] = []  # lane, channel, total, wait, strict
    for key, buyer in outside.buyers.items():
        mine = outside.wms.orders.get(key)
        if buyer.paid_at is None or not mine or key in outside.named:
            continue
        accepted = min(datetime.fromisoformat(o["accepted_at"]) for o in mine
                       if o.get("accepted_at"))
        paid = buyer.paid_at.timestamp()
        strict = max(accepted.timestamp() - paid, 0.0)
        if not pulled:
            wait, total = 0.0, strict / speedup
        elif (pull := _pull_for(pulls, key, paid)) is not None:
            asked, due = pull
            start = max(min(due, asked), paid)
            wait = start - paid
            total = wait + max(accepted.timestamp() - start, 0.0) / speedup
        else:
            wait, total = strict, strict
        rows.append((mine[0].get("lane") or "?", key[0], total, wait, strict))
    out: dict[str, Any] = {"all": stats([r[2] for r in rows]), "split": split}
    strict_out: dict[str, Any] = {"all": stats([r[4] for r in rows])}
    for name, column in (("by_lane", 0), ("by_channel", 1)):
        groups: dict[str, list[tuple]] = defaultdict(list)
        for row in rows:
            groups[row[column]].append(row)
        out[name] = {g: stats([r[2] for r in v]) for g, v in sorted(groups.items())}
        strict_out[name] = {g: stats([r[4] for r in v]) for g, v in sorted(groups.items())}
    out["wait_for_pull"] = stats([r[3] for r in rows])
    return {"latency_to_wms_s": out, "latency_to_wms_strict_s": strict_out}
