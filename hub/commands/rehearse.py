"""``orderhub rehearse``: replay a surge day against the real hub and write the report.
Exit 1 when the outside verdict finds an order lost, shipped twice, shipped after an
avoidable cancellation, to a stale address or with wrong items, or when the anomaly
precision or recall is below 0.99 (each reason printed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rehearse", help="rehearse a surge scenario against the live hub")
    p.add_argument("scenario", help="scenario name (scenarios/NAME.toml) or a path")
    p.add_argument("--speedup", type=float, help="business seconds per wall second "
                   "(default: the scenario's)")
    p.add_argument("--window", help="part of the day to run, HH:MM-HH:MM (default: the "
                   "scenario's)")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument("--out", type=Path, default=Path("var/rehearsal"),
                   help="folder for summary.json, report.html and the trace")
    p.add_argument("--push", action="store_true", help="marketplaces push instead of being "
                   "pulled")
    p.add_argument("--interval", type=float, help="pull interval in business seconds "
                   "(default: the scenario's, 30)")
    p.add_argument("--port", type=int, default=0, help="dashboard port during the run "
                   "(default: a free one, printed at start)")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="give up settling after this many wall seconds")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--compare", choices=["fifo"], help="replay the same trace again with "
                   "first-come-first-served rules (no lanes) and put both runs side by side")
    p.set_defaults(func=rehearse)


def rehearse(args: argparse.Namespace) -> int:
    from sim.rehearsal import RehearsalError
    from sim.rehearsal import rehearse as run
    from sim.scenario import env_folders
    from sim.verdict import failures

    try:
        summary = run(args.scenario, speedup=args.speedup, window=args.window, seed=args.seed,
                      out=args.out, push=args.push, interval_s=args.interval,
                      port=args.port, timeout_s=args.timeout, progress=not args.no_progress,
                      scenario_folders=env_folders(os.environ), compare=args.compare)
    except RehearsalError as exc:
        print(f"orderhub rehearse: {exc}", file=sys.stderr)
        return 1
    failed = failures({**summary["verdict"], "anomalies": summary["anomalies"]})
    for reason in failed:
        print(f"orderhub rehearse: FAILED: {reason}", file=sys.stderr)
    return 1 if failed else 0
