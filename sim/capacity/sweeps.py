"""What-ifs: one figure of the day varied over values (``--sweep NAME=V1,V2,...``), the
hub and the old flow run at each point on the whole day.

Per point: on-time share by lane, the packers each group needs per shift to hold P0 on
time >= 99% (the crews scaled by one factor, found by bisection), the first resource to
saturate and its hour, the hub cores needed for the peak minute (measured per-order
CPU), and the business figures from the unit costs: compensation avoided, hours saved,
both with the scenario's staff (``business``) and with both ways of working given the
staff the hub needs (``business_staffed``: what the way of working itself saves).

Days above ``SAMPLE_ABOVE`` orders run as a sampled day (``sim.capacity.flow``): one
order in ``orders / SAMPLE_ABOVE`` simulated, every capacity scaled by the same share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from sim.capacity.day import build_day
from sim.capacity.figures import summary
from sim.capacity.flow import Setup, run
from sim.capacity.params import CapacityError, HubPerf, with_values
from sim.capacity.warehouse import spans_of
from sim.scenario import Scenario

SAMPLE_ABOVE = 60_000
NODE_CORES = 8  # a Ray node as sized in the report: 8 cores (the cluster benchmark's CPU per order)
SHIFTS = {  # named shift patterns for --sweep shifts=...
    "24h": [["00:00", "24:00"]],
    "2x8": [["06:00", "14:00"], ["14:00", "22:00"]],
    "day": [["08:00", "20:00"]],
    "long-day": [["07:00", "23:00"]],
}
SWEEPS = {  # name -> (what it changes, parse one value)
    "volume": ("orders a day", float),
    "interval": ("pull interval (s)", float),
    "clerks": ("clerks / people answering alerts", int),
    "packers": ("packers per group (x the scenario's crews)", float),
    "shifts": (f"one shift pattern for every group ({', '.join(SHIFTS)})", str),
    "cores": ("hub cores", float),
}
DEFAULT_SWEEP = ("volume", [8000.0, 42000.0, 100000.0, 1000000.0])
P0_TARGET = 0.99


def parse(text: str) -> tuple[str, list]:
    """``"volume=8000,42000"`` -> ``("volume", [8000.0, 42000.0])``."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or name not in SWEEPS:
        raise CapacityError(f"--sweep {text!r}: expected NAME=V1,V2,... with NAME one of "
                            f"{', '.join(SWEEPS)}")
    kind = SWEEPS[name][1]
    out = []
    for raw in (v.strip() for v in values.split(",")):
        try:
            value = kind(raw)
        except ValueError:
            raise CapacityError(f"--sweep {name}: {raw!r} is not a {kind.__name__}") from None
        if kind is str and value not in SHIFTS:
            raise CapacityError(f"--sweep shifts: unknown pattern {value!r} "
                                f"(known: {', '.join(SHIFTS)})")
        if kind is not str and not value > 0:
            raise CapacityError(f"--sweep {name}: {raw} must be more than zero")
        out.append(value)
    if not out:
        raise CapacityError(f"--sweep {name}: no values")
    return name, out


def _setups(hub: Setup, old: Setup, name: str, value: Any) -> tuple[Setup, Setup]:
    if name == "interval":
        return replace(hub, interval_s=float(value)), old
    if name == "clerks":
        return (replace(hub, params=with_values(hub.params, {"checks.clerks": value})),
                replace(old, params=with_values(old.params, {"checks.clerks": value})))
    if name == "packers":
        return replace(hub, packers_factor=value), replace(old, packers_factor=value)
    if name == "shifts":
        return replace(hub, shifts=SHIFTS[value]), replace(old, shifts=SHIFTS[value])
    if name == "cores":
        return replace(hub, hub_cores=float(value)), old
    return hub, old


def _staffed(setup: Setup, factor: float) -> Setup:
    clerks = max(1, int(np.ceil(float(setup.params["checks"]["clerks"]) * factor)))
    return replace(setup, packers_factor=setup.packers_factor * factor,
                   params=with_values(setup.params, {"checks.clerks": clerks}))


def staffing(day: Any, setup: Setup, perf: HubPerf, seed: int, steps: int = 5
             ) -> dict[str, Any]:
    """The smallest factor on every group's crew and on the people answering alerts
    that holds P0 on time >= 99% and every lane together >= 99% (within ``1/2**steps``
    of the bracket), and the crews per shift it gives."""

    def p0(factor: float) -> float:
        one = _staffed(setup, factor)
        fig = summary(run(day, one, perf, seed), one.params)
        shares = [fig["on_time"][k]["share"] for k in ("P0", "all")]
        return min(1.0 if s is None else s for s in shares)

    lo, hi = 0.0, 1.0  # the scenario's staff first; doubled until it holds
    while p0(hi) < P0_TARGET and hi < 64:
        lo, hi = hi, hi * 2
    if hi >= 64:
        return {"factor": None, "reason": "on time stays under 99% with 64x the staff"}
    for _ in range(steps):
        mid = (lo + hi) / 2
        if mid > 0 and p0(mid) >= P0_TARGET:
            hi = mid
        else:
            lo = mid
    given = setup.crews.get("groups") or {}
    default = int(setup.crews.get("default_workers", 40))
    crews = {}
    for group in ("lane-P0", "lane-P1", "lane-P2", "lane-P3", "same-city", "live-new-buyer"):
        spec = given.get(group) or {}
        shifts = setup.shifts or spec.get("shifts") or [["00:00", "24:00"]]
        workers = int(np.ceil(float(spec.get("workers", default)) * hi *
                              setup.packers_factor))
        crews[group] = {"-".join(s): workers for s in shifts}
    return {"factor": round(hi, 3), "per_shift": crews,
            "packers": sum(max(v.values()) for v in crews.values()),
            "clerks": int(_staffed(setup, hi).params["checks"]["clerks"])}


def business(old: dict[str, Any], hub: dict[str, Any], costs: dict[str, float]
             ) -> dict[str, Any]:
    def money(fig: dict[str, Any]) -> float:
        return fig["late"] * costs["compensation_late"] + fig["wrong"] * costs[
            "compensation_wrong"]

    def hours(fig: dict[str, Any]) -> float:
        return fig["person_orders"] * costs["handling_min"] / 60 + fig["person_hours"]

    saved = hours(old) - hours(hub)
    return {"compensation_old_cny": round(money(old)), "compensation_hub_cny": round(money(hub)),
            "cost_avoided_cny": round(money(old) - money(hub)),
            "person_hours_old": round(hours(old), 1), "person_hours_hub": round(hours(hub), 1),
            "hours_saved": round(saved, 1),
            "wages_saved_cny": round(saved * costs["wage_per_hour"])}


def point(scenario: Scenario, hub: Setup, old: Setup, perf: HubPerf, seed: int,
          costs: dict[str, float], name: str, value: Any) -> dict[str, Any]:
    """One sweep point: both ways of working on the whole day."""
    volume = float(value) if name == "volume" else float(scenario.orders_per_day)
    sample = min(1.0, SAMPLE_ABOVE / volume)
    day = build_day(scenario, seed, orders_per_day=volume, window=("00:00", "24:00"),
                    sample=sample)
    hub_s, old_s = _setups(hub, old, name, value)
    hub_fig = summary(run(day, hub_s, perf, seed), hub_s.params)
    old_fig = summary(run(day, old_s, perf, seed), old_s.params)
    minute = np.bincount((day.paid // 60).astype(int), minlength=1440).max() * day.scale / 60
    staff = staffing(day, hub_s, perf, seed)
    factor = staff.get("factor") or 1.0
    staffed = [_staffed(s, factor) for s in (old_s, hub_s)]
    old_at, hub_at = (summary(run(day, s, perf, seed), s.params) for s in staffed)
    return {
        "name": name, "value": value, "orders": hub_fig["orders"],
        "sampled": f"1 in {day.scale:.3g}" if day.scale > 1 else None,
        "hub": _brief(hub_fig), "old_flow": _brief(old_fig),
        "staff_for_p0_99": staff,
        "clerks": int(hub_s.params["checks"]["clerks"]),
        "hub_cores_needed": perf.cores_needed(float(minute)),
        "ray_nodes_needed": perf.nodes_needed(float(minute), NODE_CORES),
        "peak_minute_orders_per_s": round(float(minute), 2),
        "business": business(old_fig, hub_fig, costs),
        "business_staffed": business(old_at, hub_at, costs),
        "staffed": {"hub": _brief(hub_at), "old_flow": _brief(old_at)},
    }


def _brief(fig: dict[str, Any]) -> dict[str, Any]:
    keys = ("delay_to_wms_s", "detection_s", "person_share", "complaint_rate", "late",
            "wrong", "on_time", "saturation", "crews", "person_orders")
    return {k: fig[k] for k in keys}


def sweep(scenario: Scenario, hub: Setup, old: Setup, perf: HubPerf, seed: int,
          costs: dict[str, float], sweeps: list[tuple[str, list]],
          tick: Callable[[str], None] | None = None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, values in sweeps:
        out[name] = []
        for value in values:
            out[name].append(point(scenario, hub, old, perf, seed, costs, name, value))
            if tick:
                tick(f"{name}={value:g}" if not isinstance(value, str) else f"{name}={value}")
    return out


__all__ = ["DEFAULT_SWEEP", "SHIFTS", "SWEEPS", "parse", "spans_of", "sweep"]
