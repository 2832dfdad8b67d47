"""``orderhub capacity``: the calibrated capacity model (``sim.capacity``) for a
scenario, with what-if sweeps; writes summary.json, capacity.html and the plots."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("capacity", help="capacity and staffing report from the calibrated "
                       "model of the whole order flow (no live hub)")
    p.add_argument("scenario", help="scenario name (scenarios/NAME.toml) or a path")
    p.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="what-if over volume, interval, clerks, packers, shifts or cores "
                   "(repeatable; a volume sweep 8k,42k,100k,1M is always run unless given)")
    p.add_argument("--out", type=Path, default=Path("var/capacity"),
                   help="folder for summary.json, capacity.html and the PNG plots")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument("--cost", action="append", default=[], metavar="NAME=VALUE",
                   help="a unit cost (sim/capacity/sets/costs.toml), e.g. wage_per_hour=40")
    p.add_argument("--live", type=Path, help="a rehearsal's summary.json to compare the "
                   "hub's model with (default: the committed double11-42k one)")
    p.add_argument("--calibration-sample", type=float, default=1.0, metavar="SHARE",
                   help="calibrate on this share of the Double-11 day (faster; default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=capacity)


def _costs(pairs: list[str]) -> dict[str, float]:
    from sim.capacity.params import CapacityError

    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise CapacityError(f"--cost {pair!r}: expected NAME=NUMBER") from None
        if not sep:
            raise CapacityError(f"--cost {pair!r}: expected NAME=NUMBER")
    return out


def capacity(args: argparse.Namespace) -> int:
    from sim.capacity.params import CapacityError
    from sim.capacity.run import capacity as run
    from sim.scenario import ScenarioError, env_folders, load_scenario

    try:
        if not 0 < args.calibration_sample <= 1:
            raise CapacityError("--calibration-sample: a share in (0, 1]")
        scenario = load_scenario(args.scenario, folders=env_folders(os.environ))
        result = run(scenario, out=args.out, seed=args.seed, sweep_args=args.sweep,
                     cost_args=_costs(args.cost), live_path=args.live,
                     calibration_sample=args.calibration_sample,
                     progress=not args.no_progress)
    except (CapacityError, ScenarioError) as exc:
        print(f"orderhub capacity: {exc}", file=sys.stderr)
        return 2
    cal, vs = result["calibration"], result["model_vs_live"]
    print(f"calibration: largest error {cal['max_relative_error']:.1%} "
          f"({'within' if cal['within_10pct'] else 'NOT within'} 10%)")
    print(f"model vs live ({vs['scenario']} {vs['window']}): "
          + ", ".join(f"{k} {v['relative_error']:.1%}" for k, v in vs["figures"].items()
                      if v["judged"] and v["relative_error"] is not None))
    for p in result["sweeps"].get("volume", []):
        staff = p["staff_for_p0_99"]
        first = p["hub"]["saturation"]["first"] or {}
        print(f"{p['value']:>11,.0f} orders/day: P0>=99% needs {staff.get('packers')} packers,"
              f" {staff.get('clerks')} clerks, {p['hub_cores_needed']} hub core(s); first to "
              f"saturate: {first.get('resource', 'none')} at {first.get('hour', 0) % 24:02d}:00")
    print(f"report: {args.out / 'capacity.html'}\nsummary: {args.out / 'summary.json'}")
    return 0
