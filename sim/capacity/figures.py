"""What a run of the flow model says, in the rehearsal's terms (``sim.verdict``,
``sim.measure``) so that model and measurement can stand side by side:

- ``delay_to_wms_s``: payment to the warehouse (the old flow: the ERP) having the order,
  over the orders that were not held;
- ``detection_s``: payment to a person knowing of a true anomaly;
- ``person_share``: orders a person had to touch (a clerk's flag, true or not; a hold;
  an urgent order pushed by hand; a status disagreement fixed by hand; a complaint);
- ``complaint_rate``: orders shipped late or wrong (an anomaly not caught, shipped
  after a cancellation, a status the buyer saw wrong), over paid orders;
- ``on_time``: shipped by the promise, by lane, over the orders not cancelled;
- ``saturation``: the first resource whose work arriving in an hour passes what it can
  do in that hour.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.capacity.day import LANES
from sim.capacity.flow import Outcome
from sim.capacity.warehouse import DAY_S


def stats(values: np.ndarray) -> dict[str, float | int | None]:
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return {"mean": None, "p50": None, "p95": None, "p99": None, "n": 0}
    p50, p95, p99 = np.percentile(v, [50, 95, 99])
    return {"mean": _r(v.mean()), "p50": _r(p50), "p95": _r(p95), "p99": _r(p99),
            "n": int(v.size)}


def _r(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def complaints(o: Outcome, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(late, complaint) per order."""
    d = o.day
    judged = ~np.isfinite(d.cancel_at) & np.isfinite(o.shipped)
    late = judged & (o.shipped > d.paid + d.promise_s)
    return late, late | o.wrong


def on_time(o: Outcome) -> dict[str, dict[str, Any]]:
    d = o.day
    judged = ~np.isfinite(d.cancel_at) & np.isfinite(o.shipped)
    ok = judged & (o.shipped <= d.paid + d.promise_s)
    out = {}
    for i, lane in enumerate((*LANES, "all")):
        mine = judged if lane == "all" else judged & (o.lane == i)
        n = int(mine.sum())
        out[lane] = {"share": _r(ok[mine].sum() / n, 4) if n else None,
                     "on_time": round(float(ok[mine].sum() * d.scale)),
                     "late": round(float((mine & ~ok).sum() * d.scale))}
    return out


def saturation(o: Outcome) -> dict[str, Any]:
    """The first hour in which a resource is offered more than it can do, and each
    resource's busiest hour."""
    first, peaks = None, {}
    hours = range(int(o.day.start_s // 3600), int(np.ceil(o.day.end_s / 3600)))
    for name, res in sorted(o.capacity.items()):
        util = []
        for h in hours:
            cap = res["per_hour"] * _open_share(res.get("spans"), h)
            work = res["work"][h]
            util.append(np.inf if cap == 0 and work > 0 else (work / cap if cap else 0.0))
        if not util:
            continue
        peak = int(np.argmax(util))
        peaks[name] = {"hour": hours[peak], "utilisation": _r(min(util[peak], 99.0), 2)}
        over = [h for h, u in zip(hours, util, strict=True) if u >= 1.0]
        if over and (first is None or over[0] < first["hour"] or (
                over[0] == first["hour"] and util[over[0] - hours[0]] > first["utilisation"])):
            first = {"resource": name, "hour": over[0],
                     "utilisation": _r(min(util[over[0] - hours[0]], 99.0), 2)}
    return {"first": first, "busiest": peaks}


def _open_share(spans: list | None, hour: int) -> float:
    if spans is None:
        return 1.0
    lo = (hour * 3600.0) % DAY_S
    hi = lo + 3600.0
    return sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in spans) / 3600.0


def summary(o: Outcome, params: dict[str, Any]) -> dict[str, Any]:
    """The run's figures (module docstring)."""
    d = o.day
    reached = np.isfinite(o.ready) & ~o.held
    delay = (o.ready - d.paid)[reached]
    found = o.found_true & np.isfinite(o.detected_at)
    late, complaint = complaints(o, params)
    person = o.flagged | o.expedited | o.disagree | complaint
    span_h = (d.end_s - d.start_s) / 3600.0
    hourly = np.bincount((d.paid // 3600).astype(int), minlength=24)
    return {
        "orders": round(float(d.n * d.scale)),
        "sampled": d.scale > 1,
        "delay_to_wms_s": stats(delay),
        "delay_to_wms_by_lane_s": {lane: stats((o.ready - d.paid)[reached & (o.lane == i)])
                                   for i, lane in enumerate(LANES)},
        "detection_s": stats((o.detected_at - d.paid)[found]),
        "person_share": _r(person.mean(), 4) if d.n else None,
        "held_share": _r(o.held.mean(), 4) if d.n else None,
        "complaint_rate": _r(complaint.mean(), 4) if d.n else None,
        "late": round(float(late.sum() * d.scale)),
        "wrong": round(float(o.wrong.sum() * d.scale)),
        "disagree": round(float(o.disagree.sum() * d.scale)),
        "person_orders": round(float(person.sum() * d.scale)),
        "lane_share": {lane: _r((o.lane == i).mean(), 4) for i, lane in enumerate(LANES)},
        "on_time": on_time(o),
        "peak_orders_per_s": _r(hourly.max() * d.scale / 3600.0, 2),
        "window_hours": _r(span_h, 2),
        "person_hours": _r(o.person_hours, 1),
        "saturation": saturation(o),
        "crews": {name: c.workers for name, c in zip(_crew_names(o), o.crews, strict=True)},
    }


def _crew_names(o: Outcome) -> list[str]:
    return list(o.groups) if len(o.crews) == len(o.groups) else ["pooled"]
