"""``orderhub capacity``: calibrate the old flow, compare the hub's model with the live
rehearsal, run the scenario's day and the sweeps, write ``summary.json``,
``capacity.html`` and the plots as PNG. Same inputs and seed, same bytes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.capacity import calibrate, live, sweeps
from sim.capacity.day import build_day
from sim.capacity.figures import summary
from sim.capacity.flow import Setup, run
from sim.capacity.params import CapacityError, costs, hub_perf, load_set, with_values
from sim.capacity.report import write_report
from sim.scenario import Scenario

CALIBRATION_SCENARIO = "double11-42k"  # the case's old row is its Double-11 day


def progress_bar(total: int) -> Callable[[str], None]:
    """A tqdm bar on stderr, one step per calibration, comparison, day and sweep point."""
    bar = tqdm(total=total, desc="capacity", unit="step", file=sys.stderr, leave=True)

    def tick(what: str) -> None:
        bar.set_postfix_str(what, refresh=False)
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return tick


def capacity(scenario: Scenario, *, out: Path, seed: int | None = None,
             sweep_args: list[str] = (), cost_args: dict[str, float] | None = None,
             live_path: Path | None = None, calibration_scenario: Scenario | None = None,
             calibration_sample: float = 1.0, progress: bool = True) -> dict[str, Any]:
    """Everything the command does; returns the summary."""
    seed = scenario.seed if seed is None else seed
    plan = [sweeps.parse(a) for a in sweep_args]
    if not any(name == "volume" for name, _ in plan):
        plan.insert(0, sweeps.DEFAULT_SWEEP)
    unit_costs = costs(cost_args)
    perf = hub_perf()
    live_summary, live_source = live.read_live(live_path)
    steps = 3 + sum(len(v) for _, v in plan)
    tick = progress_bar(steps) if progress else (lambda _what: None)

    from sim.scenario import load_scenario

    calib_on = calibration_scenario or load_scenario(CALIBRATION_SCENARIO)
    calib_day = build_day(calib_on, calib_on.seed, window=("00:00", "24:00"),
                          sample=calibration_sample)
    old_set = load_set("old_flow")
    fitted = calibrate.fit(calib_day, Setup(old_set, calib_on.warehouse), perf,
                           calib_on.seed)
    fitted["scenario"] = calib_on.name
    tick("calibration")
    old_set = with_values(old_set, {f"fitted.{k}": v for k, v in fitted["values"].items()})
    hub_set = load_set("hub")

    vs_live = live.compare(live_summary, perf, source=_shown(live_source))
    tick("model vs live")

    day = build_day(scenario, seed, window=("00:00", "24:00"))
    hub_setup = Setup(hub_set, scenario.warehouse, interval_s=scenario.pull_interval_s,
                      push=scenario.push)
    old_setup = Setup(old_set, scenario.warehouse)
    hub_day = summary(run(day, hub_setup, perf, seed), hub_set)
    old_day = summary(run(day, old_setup, perf, seed), old_set)
    tick("the scenario's day")

    swept = sweeps.sweep(scenario, hub_setup, old_setup, perf, seed, unit_costs, plan, tick)
    result = {
        "scenario": scenario.name, "seed": seed,
        "calibration": {k: v for k, v in fitted.items() if k != "values"},
        "model_vs_live": vs_live,
        "day": {"hub": hub_day, "old_flow": old_day,
                "business": sweeps.business(old_day, hub_day, unit_costs)},
        "sweeps": swept,
        "costs": unit_costs,
        "hub_measured": {"latency_s": perf.latency_s, "cpu_s_per_order": perf.cpu_s_per_order,
                         "sustained_orders_per_s": perf.sustained_per_s,
                         "cores": perf.cores, "source": perf.source,
                         "cluster_cpu_s_per_order": perf.cluster_cpu_s_per_order,
                         "cluster_source": perf.cluster_source,
                         "ray_node_cores": sweeps.NODE_CORES},
        "parameter_sets": {"old_flow": old_set, "hub": hub_set},
        "fast_path": f"days above {sweeps.SAMPLE_ABOVE} orders run as a sampled day",
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(
        json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False, default=_plain) + "\n",
        encoding="utf-8")
    write_report(result, out)
    return result


def _shown(source: str) -> str:
    """The live summary's path relative to the checkout when inside it (stable bytes)."""
    path = Path(source).resolve()
    root = Path(__file__).resolve().parents[2]
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


__all__ = ["CapacityError", "capacity", "progress_bar"]
