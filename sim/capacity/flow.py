"""The whole order flow of one day under one way of working (a parameter set): payment
-> back office (batch export, pull or push) -> checks (patrols or inline holds and the
people who fix them) -> packing groups (``sim.capacity.warehouse``, SimPy) -> carrier,
with cancellations racing the warehouse. Outcomes are per order (NumPy columns); the
figures (``sim.capacity.figures``) are computed from them.

A sampled day (``Day.scale > 1``) keeps every capacity in proportion: workers and clerks
are rounded to whole people with their service times stretched or shrunk so that the
group's work rate is exactly the sampled share, the ERP's import rate and the hub's
capacity are scaled down; waits stay what they would be, counts are scaled back up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.capacity import sync
from sim.capacity.day import DELIVERIES, LANES, REMEDIED, URGENT, Day, lanes_of
from sim.capacity.params import SERVICE, SERVICE_DEFAULT, HubPerf
from sim.capacity.warehouse import Crew, Done, Work, carrier, pack, spans_of

ALL_DAY = [("00:00", "24:00")]


@dataclass
class Setup:
    """What one run varies: the parameter set, the warehouse's crews, the sync."""

    params: dict[str, Any]
    crews: dict[str, Any]  # the scenario's [warehouse]: default_workers, groups
    interval_s: float = 30.0
    push: bool = False
    hub_cores: float = 2.0
    packers_factor: float = 1.0  # every group's workers times this
    shifts: list | None = None  # one shift pattern for every group (None: the scenario's)
    release_holds: bool = True  # people fix held orders (a live rehearsal has nobody)
    cutoffs: list[float] = field(default_factory=list)  # carrier pick-ups, s of the day


@dataclass
class Outcome:
    day: Day
    lane: np.ndarray
    groups: tuple[str, ...]
    group: np.ndarray
    crews: list[Crew]
    work_s: np.ndarray
    ready: np.ndarray  # reached the back office / the WMS (inf: held, never)
    held: np.ndarray  # bool: held by an inline check
    flagged: np.ndarray  # bool: a person looked at it for an anomaly (true or not)
    found_true: np.ndarray  # bool: a true anomaly that a person found
    detected_at: np.ndarray  # when a person knew of the anomaly (inf: never)
    expedited: np.ndarray  # bool: pushed or changed by hand (the old flow)
    disagree: np.ndarray
    done: Done
    shipped: np.ndarray
    wrong: np.ndarray  # shipped with a flaw, or after a cancellation
    person_hours: float
    capacity: dict[str, Any]  # resource -> hourly capacity and arriving work (for saturation)


def _crews(setup: Setup, names: tuple[str, ...], pooled: bool, scale: float
           ) -> tuple[list[Crew], list[float]]:
    """Crews per group (or one pooled crew) and each group's service-time stretch."""
    given = setup.crews.get("groups") or {}
    default = int(setup.crews.get("default_workers", 40))

    def of(name: str) -> tuple[float, list]:
        spec = given.get(name) or {}
        return float(spec.get("workers", default)), spec.get("shifts") or ALL_DAY

    specs = [of(n) for n in names]
    if pooled:
        specs = [(sum(w for w, _ in specs), ALL_DAY)]
    crews, stretch = [], []
    for workers, shifts in specs:
        exact = workers * setup.packers_factor / scale
        whole = max(1, round(exact)) if exact > 0 else 0
        crews.append(Crew(whole, spans_of(setup.shifts or shifts)))
        stretch.append(whole / exact if exact > 0 else 1.0)
    return crews, stretch


def run(day: Day, setup: Setup, perf: HubPerf, seed: int) -> Outcome:
    """One day through the flow ``setup.params`` describes."""
    p, n, scale = setup.params, day.n, day.scale
    rng = np.random.default_rng([seed, 0xF10])
    fitted, checks, wh = p.get("fitted", {}), p["checks"], p["warehouse"]
    lane, group, groups = lanes_of(day, _lane_table(p))
    lanes_on = bool(wh.get("lanes", True))
    crews, stretch = _crews(setup, groups, not lanes_on, scale)
    wgroup = group if lanes_on else np.zeros(n, dtype=np.int16)
    if lanes_on:
        svc = np.array([SERVICE[x] for x in LANES])[lane]
    else:
        svc = np.tile(np.asarray(SERVICE_DEFAULT), (n, 1))
    work_s, ship_s = svc[:, 0] * np.asarray(stretch)[wgroup], svc[:, 1]
    anomalous = day.anomaly >= 0
    remedied = anomalous & (day.anomaly == (day.anomalies.index(REMEDIED)
                                            if REMEDIED in day.anomalies else -2))
    needs_fix = anomalous & ~(remedied & bool(wh.get("remedy", False)))
    clerks_exact = float(checks.get("clerks", 1)) / scale
    clerks = max(1, round(clerks_exact))
    clerk_stretch = clerks / clerks_exact
    expedited = np.zeros(n, dtype=bool)
    rec = p.get("reconcile", {})
    disagree = rng.random(n) < float(rec.get("disagree_rate", 0.0))
    noticed = disagree & (rng.random(n) < float(rec.get("buyer_sees", 0.0)))
    by_hand = np.zeros(n, dtype=bool)
    if checks.get("changes_by_hand"):  # a cancellation or a new address, passed on by a person
        by_hand = np.isfinite(day.cancel_at) | day.changed
    hours = 0.0
    capacity: dict[str, Any] = {}
    if p["sync"]["mode"] == "export":
        interval = float(fitted["export_interval_s"])
        rate = float(p["sync"]["import_per_s"]) * (1 / scale)
        phase = float(rng.uniform(0, interval))
        ready = sync.export(day.paid, interval, phase, rate)
        stop_at = sync.export(np.sort(day.cancel_at[np.isfinite(day.cancel_at)]), interval,
                              phase, rate)
        stop = np.full(n, np.inf)
        stop[np.argsort(day.cancel_at, kind="stable")[:stop_at.size]] = stop_at
        capacity["erp_import"] = {"per_hour": rate * 3600.0, "work": _hourly(day.paid)}
        patrol_s = float(fitted["patrol_interval_s"])
        found, found_true = sync.patrol(
            ready, day.anomaly, interval=patrol_s, phase=float(rng.uniform(0, patrol_s)),
            clerks=clerks, check_s=float(checks["check_s"]) * clerk_stretch,
            miss_rate=float(checks["miss_rate"]), misjudgement=float(checks["misjudgement"]),
            rng=rng)
        flagged = np.isfinite(found)
        found_true &= needs_fix
        detected = np.where(found_true, found, np.inf)
        rushed = day.urgent() | (day.delivery == DELIVERIES.index("same_city"))
        expedited = rushed & (rng.random(n) < float(fitted["expedite_share"]))
        priority = np.where(expedited, 0, 1)
        held = np.zeros(n, dtype=bool)
        stop = np.where(day.out_of_stock, ready, stop)  # nothing to pick: refunded by a person
        by_hand |= day.out_of_stock
        hours += n * float(checks["check_s"]) / 3600.0
        capacity["clerks"] = {"per_hour": clerks * 3600.0 / clerk_stretch,
                              "work": _hourly(ready, float(checks["check_s"]))}
        fix_s = float(checks["fix_s"]) * clerk_stretch
        fixed_at = sync.people(found, clerks, fix_s)
        capacity["clerks"]["work"] = [a + b for a, b in zip(
            capacity["clerks"]["work"], _hourly(found, float(checks["fix_s"])), strict=True)]
        work = Work(ready, wgroup, priority, work_s, stop, found, fixed_at)
    else:
        cap = perf.capacity(setup.hub_cores) / scale
        capacity["hub"] = {"per_hour": cap * 3600.0, "work": _hourly(day.paid)}
        if setup.push:
            arrive = day.paid + float(p["sync"].get("push_latency_s", 1.0))
            cancel_seen = day.cancel_at + float(p["sync"].get("push_latency_s", 1.0))
        else:
            phases = rng.uniform(0, setup.interval_s, len(day.pullers))
            arrive = sync.pulled_at(day.paid, day.puller, setup.interval_s, phases)
            cancel_seen = sync.pulled_at(day.cancel_at, day.puller, setup.interval_s, phases)
        decided = sync.hub_pass(arrive, perf.latency_s, cap)
        stop = np.where(np.isfinite(cancel_seen), cancel_seen + perf.latency_s, np.inf)
        caught = needs_fix & (rng.random(n) < float(checks.get("recall", 1.0)))
        held = caught | (~anomalous & (rng.random(n) < float(checks.get("false_hold", 0.0))))
        held |= day.out_of_stock  # the hub holds it for a person (refund or substitute)
        ack = rng.exponential(float(checks.get("ack_s", 0.0)), n)
        fix_s = float(checks["fix_s"]) * clerk_stretch
        fixed = sync.people(np.where(held, decided + ack, np.inf), clerks, fix_s)
        detected = np.where(caught, decided + ack, np.inf)
        capacity["clerks"] = {"per_hour": clerks * 3600.0 / clerk_stretch,
                              "work": _hourly(decided[held], float(checks["fix_s"]))}
        found_true, flagged = caught, held
        release = fixed if setup.release_holds else np.full(n, np.inf)
        ready = np.where(held & ~day.out_of_stock, release, decided)
        ready[day.out_of_stock] = np.inf
        priority = lane if lanes_on else np.zeros(n, dtype=np.int16)
        work = Work(ready, wgroup, priority, work_s, stop, np.full(n, np.inf))
        ready = np.where(held, np.inf, decided)
    for g, crew in enumerate(crews):
        mine = wgroup == g
        capacity[f"packing:{(groups[g] if lanes_on else 'pooled')}"] = {
            "per_hour": crew.workers * 3600.0, "spans": crew.spans,
            "work": _hourly(work.enter[mine], work_s[mine])}
    done = pack(work, crews)
    shipped = carrier(done.packed, ship_s, setup.cutoffs)
    stopped = done.stopped | (np.isfinite(work.stop_at) & (work.stop_at < done.packed))
    shipped[stopped] = np.inf
    after_cancel = np.isfinite(shipped) & np.isfinite(day.cancel_at)
    missed = needs_fix & ~done.intercepted & ~held & np.isfinite(shipped)
    complain = _complain_p(day)[day.anomaly] * float(fitted.get("complain_share", 1.0))
    oversold = day.out_of_stock & ~held  # the buyer paid, waited and was refunded
    wrong = (missed & (rng.random(n) < complain)) | after_cancel | noticed | oversold
    hours += float(p.get("reconcile", {}).get("hours_per_day", 0.0)) / scale * \
        max(1.0, (day.end_s - day.start_s) / 86400.0)
    return Outcome(day, lane, groups, wgroup, crews, work_s, ready, held, flagged,
                   found_true, detected, expedited | by_hand, disagree, done, shipped, wrong, hours,
                   capacity)


def _lane_table(params: dict[str, Any]) -> dict[str, Any]:
    """The set's lane table; the old flow is reported by the lanes the hub would give."""
    from sim.capacity.params import load_set

    return params.get("lanes") or load_set("hub")["lanes"]


def _complain_p(day: Day) -> np.ndarray:
    """Per planted reason (and -1: clean, last), the share of flawed shipments that
    become a complaint (``sets/buyers.toml``)."""
    import tomllib

    from sim.capacity.params import SETS

    table = tomllib.loads((SETS / "buyers.toml").read_text(encoding="utf-8"))["shipped_flawed"]
    return np.array([float(table.get(a, 1.0)) for a in day.anomalies] + [0.0])


def _hourly(at: np.ndarray, each: float | np.ndarray = 1.0) -> list[float]:
    """Work arriving in each hour of the day (and the next), in ``each`` units."""
    at = np.asarray(at, dtype=float)
    weights = np.broadcast_to(np.asarray(each, dtype=float), at.shape)
    ok = np.isfinite(at)
    hours = np.clip((at[ok] // 3600).astype(int), 0, 47)
    return np.bincount(hours, weights=weights[ok], minlength=48).tolist()


__all__ = ["URGENT", "Outcome", "Setup", "run"]
