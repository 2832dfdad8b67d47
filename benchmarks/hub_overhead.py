"""The hub's overhead as a ratio, and its idle cost, for ``benchmarks.hub``.

- ``useful_work``: the CPU an order's useful work costs on this host, now: the domain
  pipeline (page JSON -> parsed -> enriched -> checked -> scored -> routed, in one
  process) and the SQLite ledger (ingest + decisions + outbox rows), from
  ``benchmarks.hub_bound``'s parts. ``benchmarks.hub`` measures it before and after
  its ladders, so the ratio compares figures from the same host state.
- ``overhead``: at the highest rate held, the hub's CPU per decided order (hub
  processes only: emulators, py-spy and exited processes left out) over the useful
  work: ``overhead_ratio``.
- ``idle``: every process of the hub at 1 order/s with 30 s pulls (push mode by
  default: the marketplaces push, the pullers catch up every 30 s), then a surge, so
  the idle cost's figure sits beside how fast the surge was decided; Ray's own daemons
  and idle workers are shown apart.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.hub_report import NOT_HUB

RAY_OWN = ("ray system", "ray worker (idle)")  # Ray's daemons and its idle worker pool


def useful_work(n: int = 3000, batch: int = 1000) -> dict[str, Any]:
    """Domain pipeline and SQLite ledger CPU us an order, measured here, now
    (``benchmarks.hub_bound.useful_work``), as a record of the run."""
    from benchmarks import hub_bound

    began = time.time()
    work = hub_bound.useful_work(n, batch)
    domain, ledger = work["domain_us"], work["ledger_us"]
    return {"orders": n, "domain_us": round(domain, 1), "ledger_us": round(ledger, 1),
            "work_us": round(domain + ledger, 1), "at": round(began),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def overhead(results: dict[str, Any], work: list[dict[str, Any]]) -> dict[str, Any]:
    """Per mode and for the best one: the hub's CPU per decided order at the highest
    rate held, the useful work beside it (median of ``work``'s measurements) and the
    ratio."""
    domain = statistics.median(w["domain_us"] for w in work)
    ledger = statistics.median(w["ledger_us"] for w in work)
    modes: dict[str, Any] = {}
    for name, run in results.items():
        held = [s for s in run["steps"] if s["sustained"]]
        if not run["steps"]:
            continue
        step = held[-1] if held else run["steps"][-1]  # none held: the highest step run
        hub_us = 1000 * step["hub_cpu_ms_per_order"]
        parts = {g: round(1000 * ms, 1) for g, ms in step["cpu_ms_per_order"].items()
                 if g not in NOT_HUB}
        modes[name] = {"rate": step["rate"], "held": step["sustained"],
                       "hub_cpu_us_per_order": round(hub_us, 1),
                       "hub_parts_us": parts,
                       "overhead_ratio": round(hub_us / (domain + ledger), 2),
                       # every step, to compare two runs at the same rate
                       "steps": [{"rate": s["rate"], "held": s["sustained"],
                                  "hub_cpu_us_per_order": round(1000 * s["hub_cpu_ms_per_order"]),
                                  "overhead_ratio": round(1000 * s["hub_cpu_ms_per_order"]
                                                          / (domain + ledger), 2)}
                                 for s in run["steps"]]}
    best = min(modes.values(), key=lambda m: (not m["held"], m["overhead_ratio"])) \
        if modes else None
    best_mode = next((k for k, v in modes.items() if v is best), None)
    return {"overhead_ratio": best["overhead_ratio"] if best else None, "mode": best_mode,
            "rate": best["rate"] if best else None, "held": best["held"] if best else None,
            "hub_cpu_us_per_order": best["hub_cpu_us_per_order"] if best else None,
            "domain_us_per_order": round(domain, 1), "ledger_us_per_order": round(ledger, 1),
            "target": 2.0,
            "target_met": bool(best and best["held"] and best["overhead_ratio"] <= 2.0),
            "by_mode": modes, "useful_work_measurements": work,
            "rule": "overhead_ratio = hub CPU per decided order at the highest rate held "
                    "(hub processes only) / (domain pipeline + SQLite ledger CPU per order, "
                    "the median of the measurements made before and after the ladders)"}


def idle_cost(step: dict[str, Any]) -> dict[str, Any]:
    """``idle_cpu_cores`` from an idle step's CPU (% of a core per process group)."""
    cpu = {g: v for g, v in step["cpu_pct"].items() if g not in NOT_HUB}
    ray_own = {g: v for g, v in cpu.items() if g in RAY_OWN}
    hub_own = {g: v for g, v in cpu.items() if g not in RAY_OWN}
    return {"idle_cpu_cores": round(sum(cpu.values()) / 100, 3),
            "hub_processes_cores": round(sum(hub_own.values()) / 100, 3),
            "ray_daemons_and_idle_workers_cores": round(sum(ray_own.values()) / 100, 3),
            "by_process_pct": cpu, "target": 0.20,
            "target_met": sum(cpu.values()) / 100 <= 0.20}


def idle(run_ladder: Any, *, idle_s: float, surge: int, surge_s: float) -> dict[str, Any]:
    """30 s pulls: ``idle_s`` at 1 order/s, then ``surge`` orders/s for
    ``surge_s``; ``run_ladder(rates, step_s_by_rate)`` runs it and returns the mode's
    result."""
    got = run_ladder([1, surge], {1: idle_s, surge: surge_s})
    steps = {s["rate"]: s for s in got["steps"]}
    quiet = steps.get(1)
    burst = steps.get(surge)
    out: dict[str, Any] = {"mode": got["mode"], "pull_interval_s": got["pull_interval_s"],
                           "idle_s": idle_s,
                           **(idle_cost(quiet) if quiet else {"idle_cpu_cores": None})}
    if burst is not None:
        out["surge"] = {"rate": surge, "step_s": surge_s, "fed": burst["fed"],
                        "decided": burst["decided_total"],
                        "creation_to_decision_s": burst["latency_s"],
                        "hub_cpu_ms_per_order": burst["hub_cpu_ms_per_order"]}
    if quiet is not None:
        out["quiet_latency_s"] = quiet["latency_s"]
    return out


def bound_beside(figures: dict[str, Any], n: int) -> dict[str, Any]:
    """``benchmarks.hub_bound``'s ceiling, measured now (its domain and ledger parts are
    the second measurement of the useful work), with this run's emulators' cost."""
    from benchmarks.hub_bound import measure

    with tempfile.TemporaryDirectory(prefix="bench-hub-bound-") as tmp:
        path = Path(tmp) / "hub.json"
        path.write_text(json.dumps(figures))
        got = measure(max(n, 1000), hub=path)
    best = figures["max_sustained_orders_per_s"]
    ceiling = got["bounds"]["order"]["orders_per_s"]
    return {"orders_per_s": ceiling, "max_sustained_share": round(best / ceiling, 3),
            "bounds": got["bounds"], "crossing_us": got["crossing_us"],
            "useful_work": {"orders": got["orders"], "domain_us": got["domain_us"],
                            "ledger_us": got["ledger_us"],
                            "work_us": round(got["domain_us"] + got["ledger_us"], 1),
                            "at": round(time.time()), "load_average": got["load_average"],
                            "source": "benchmarks.hub_bound.measure"}}
