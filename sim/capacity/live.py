"""The model against a live rehearsal: the hub's parameter set run on the rehearsal's
scenario, window, pull interval and crews (nobody releases a hold, as in a rehearsal),
its figures beside the ones the rehearsal measured (its ``summary.json``).

The committed measurement is ``benchmarks/results/rehearsal/double11-42k.summary.json``
(``orderhub rehearse double11-42k``); ``--live FILE`` compares with another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.capacity.day import build_day
from sim.capacity.figures import summary
from sim.capacity.flow import Setup, run
from sim.capacity.params import RESULTS, CapacityError, HubPerf, load_set
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_window

LIVE = RESULTS / "rehearsal" / "double11-42k.summary.json"
TOLERANCE = 0.10
# figure -> (where the rehearsal has it, where the model has it, judged within 10%)
FIGURES = {
    "delay_to_wms_mean_s": (("latency_to_wms_s", "all", "mean"),
                            ("delay_to_wms_s", "mean"), True),
    "delay_to_wms_p99_s": (("latency_to_wms_s", "all", "p99"),
                           ("delay_to_wms_s", "p99"), True),
    "p0_on_time_share": (("verdict", "on_time", "lane", "P0", "share"),
                         ("on_time", "P0", "share"), True),
    "on_time_share_all": (("verdict", "on_time", "lane", "all", "share"),
                          ("on_time", "all", "share"), True),
    "person_share": (("manual_ratio",), ("held_share",), True),
    "detection_s": (("anomalies", "detection_delay_s", "mean"), ("detection_s", "mean"), False),
    "complaint_rate": (("verdict", "complaint_risk",), ("complaint_rate",), False),
    **{f"{lane.lower()}_on_time_share": (("verdict", "on_time", "lane", lane, "share"),
                                         ("on_time", lane, "share"), True)
       for lane in ("P1", "P2", "P3")},
    "p0_share_of_orders": ("p0_share", ("lane_share", "P0"), False),
}


def dig(node: Any, path: tuple | str | None) -> Any:
    if path is None:
        return None
    if path == "p0_share":  # P0's share of the orders the rehearsal timed to the WMS
        lanes = dig(node, ("latency_to_wms_s", "by_lane")) or {}
        total = sum(v.get("n", 0) for v in lanes.values())
        return round(lanes.get("P0", {}).get("n", 0) / total, 4) if total else None
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def read_live(path: Path | None) -> tuple[dict[str, Any], str]:
    path = Path(path or LIVE)
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError:
        raise CapacityError(f"{path}: no such rehearsal summary (run `orderhub rehearse "
                            "SCENARIO --out DIR` and pass DIR/summary.json)") from None
    except json.JSONDecodeError as exc:
        raise CapacityError(f"{path}: not a rehearsal summary ({exc})") from None


def compare(live: dict[str, Any], perf: HubPerf, *, source: str = "",
            scenario: Scenario | None = None, seed: int | None = None) -> dict[str, Any]:
    """``model_vs_live``: each figure measured, modelled, and their relative error."""
    try:
        scenario = scenario or load_scenario(live["scenario"])
        window = parse_window(live["window"])
    except (KeyError, ScenarioError) as exc:
        raise CapacityError(f"{source or 'rehearsal summary'}: cannot rebuild its scenario "
                            f"({exc})") from None
    seed = scenario.seed if seed is None else seed
    day = build_day(scenario, seed, window=window)
    params = load_set("hub")
    setup = Setup(params, live.get("warehouse") or scenario.warehouse,
                  interval_s=float(live.get("pull_interval_s") or scenario.pull_interval_s),
                  push=live.get("mode") == "push", release_holds=False)
    model = summary(run(day, setup, perf, seed), params)
    rows = {}
    for name, (live_path, model_path, judged) in FIGURES.items():
        measured, modelled = dig(live, live_path), dig(model, model_path)
        err = None
        if isinstance(measured, int | float) and isinstance(modelled, int | float) and measured:
            err = round(abs(modelled - measured) / abs(measured), 4)
        rows[name] = {"live": measured, "model": modelled, "relative_error": err,
                      "judged": judged}
    judged_rows = [r for r in rows.values() if r["judged"]]
    return {
        "live_source": source, "scenario": scenario.name, "window": live.get("window"),
        "pull_interval_s": setup.interval_s, "mode": "push" if setup.push else "pull",
        "seed": seed, "orders_model": model["orders"],
        "orders_live": dig(live, ("orders", "generated")),
        "figures": rows, "tolerance": TOLERANCE,
        "within_10pct": all(r["relative_error"] is not None and
                            r["relative_error"] <= TOLERANCE for r in judged_rows),
        "hub_latency_s": perf.latency_s, "hub_source": perf.source,
    }
