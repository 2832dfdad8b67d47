"""A live rehearsal: a scenario's trace replayed in wall time (at a speed-up) through
the emulated marketplaces and back offices into the real hub on Ray, measured from
the hub's ledger, written up as ``summary.json`` and ``report.html``.

    orderhub rehearse double11-42k --out var/rehearsal
"""

from __future__ import annotations

import bisect
import logging
import math
import resource
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hub.clock import ScaledClock
from hub.config import HubSettings
from hub.gcwatch import max_pauses
from sim.gcpause import collector_paused
from sim.generator import generate
from sim.measure import Outcome, summarise
from sim.report import write_report
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_window
from sim.trace import write_trace

log = logging.getLogger("orderhub.rehearsal")
DECIDED = ("routed", "held", "auto_remedied")
SETTLE_WALL_S = 15.0  # once all is decided, how long to let the warehouse catch up
WARMUP_WALL_S = 15.0  # Ray actors start, workers load the division table and rules


class RehearsalError(RuntimeError):
    """A rehearsal that could not run; the message says why."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outcomes(ledger: Any, keys: list[tuple]) -> dict[tuple, Outcome]:
    """Each order as the ledger saw it."""
    out: dict[tuple, Outcome] = {}
    for key in keys:
        view = ledger.get_order(key)
        if view is None:
            continue
        o = Outcome()
        per_version: Counter = Counter()
        for event in view.timeline:
            if event.stage == "received":
                o.received_at = min(o.received_at or event.at, event.at)
            elif event.stage in DECIDED:
                per_version[event.version] += 1
                o.decided_at = min(o.decided_at or event.at, event.at)
            elif event.stage == "shipped" and o.shipped_at is None:
                o.shipped_at = event.at
        o.decisions_per_version = per_version
        decision = view.decision
        if decision is not None:
            o.lane = decision.lane
            o.held = decision.held
            o.remedied = bool(decision.remedies)
            o.anomalies = tuple(a.code for a in decision.anomalies)
        out[key] = o
    return out


def _stamp_pull_due(outcomes: dict[tuple, Outcome], schedules: list[dict]) -> None:
    """Each order's ``pull_due``: the scheduled start of the pull that took its first
    version in (the last pull of its puller that asked no later than it arrived)."""
    pulls: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for puller in schedules:
        pulls[(puller["channel"], puller["shop"])] = sorted(
            (asked, due) for due, asked in puller["pulls"])
    for key, outcome in outcomes.items():
        mine = pulls.get((key[0], key[1])) or pulls.get((key[0], ""))
        if not mine or outcome.received_at is None:
            continue
        i = bisect.bisect_right(mine, (outcome.received_at.timestamp() + 1e-6, math.inf))
        if i:
            outcome.pull_due = datetime.fromtimestamp(mine[i - 1][1], outcome.received_at.tzinfo)


def _rules_timer(scenario: Scenario, rules_file: Path, clock: ScaledClock) -> threading.Thread:
    """Writes each scheduled rule-set change into the hub's watched rules file on time."""
    def run() -> None:
        for change in sorted(scenario.rule_changes, key=lambda c: c.at):
            hours, minutes = (int(x) for x in change.at.split(":"))
            due = clock.wall_at(scenario.origin + timedelta(hours=hours, minutes=minutes))
            time.sleep(max(due - time.time(), 0))
            source = Path(change.file)
            if not source.is_absolute() and scenario.source is not None:
                source = scenario.source.parent / source
            rules_file.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            log.info("rules file changed to %s", source)

    thread = threading.Thread(target=run, name="rule-changes", daemon=True)
    thread.start()
    return thread


def rehearse(name: str, *, speedup: float | None = None, window: str | None = None,
             seed: int | None = None, out: Path = Path("var/rehearsal"), push: bool = False,
             interval_s: float | None = None, port: int = 0, timeout_s: float = 900.0,
             progress: bool = True, warmup_s: float = WARMUP_WALL_S,
             scenario_folders: Sequence[Path] = ()) -> dict[str, Any]:
    """Run one rehearsal and write its report; returns the summary. A scenario ``name``
    is looked up in ``scenario_folders``, then in ``scenarios/``."""
    try:
        scenario = load_scenario(name, folders=scenario_folders)
        span = parse_window(window) if window else scenario.window
        scenario = scenario.model_copy(update={"window": Scenario.model_validate(
            {**scenario.model_dump(), "window": span}).window})
    except (ScenarioError, ValueError) as exc:
        raise RehearsalError(str(exc)) from None
    speedup = speedup or scenario.speedup
    interval_s = interval_s or scenario.pull_interval_s
    push = push or scenario.push
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    began = time.perf_counter()
    header, events = generate(scenario, seed, scenario.window)
    write_trace(out / "trace.jsonl", header, events)
    created: dict[tuple, Any] = {}
    truth: dict[tuple, tuple] = {}
    for event in events:
        if event.order is not None:
            key = event.order.key
            created.setdefault(key, event.order.modified_at)
            if event.truth:
                truth[key] = event.truth
    print(f"rehearsal {scenario.name}: seed {header.seed}, window {'-'.join(scenario.window)}, "
          f"{len(created)} orders ({len(events)} events) at speed-up {speedup:g}, "
          f"{'push' if push else f'pull every {interval_s:g}s'}", flush=True)
    from hub.runtime import Hub, init_ray
    from sim.emulators.suite import EmulatorSuite, SuiteConfig

    init_ray(None)
    start_s, end_s = scenario.window_seconds()
    window_origin = scenario.origin + timedelta(seconds=start_s)
    clock = ScaledClock(window_origin, speedup, wall_origin=time.time() + warmup_s)
    port = port or _free_port()
    hub_url = f"http://127.0.0.1:{port}"
    suite_config = SuiteConfig.model_validate({
        "trace": out / "trace.jsonl", "speedup": speedup, "hub_url": hub_url if push else "",
        "erp": {"stock": scenario.inventory()},
        "wms": {"default_workers": 40},  # a Double-11 warehouse crew: ~2,000 orders an hour
        "marketplaces": {"channels": sorted(scenario.channels), "push": push}})
    suite = EmulatorSuite(suite_config, clock=clock).start()
    rules_file = out / "rules.yaml"
    from hub.domain import default_ruleset

    rules_file.write_text(default_ruleset().text, encoding="utf-8")
    wiring = suite.hub_settings()
    for channel in wiring.get("channels", []):
        # the emulators publish an order the moment it is made: a short safety lag will do
        channel.update(interval_s=interval_s, overlap_s=60, safety_lag_s=0.2, page_size=100)
    settings = HubSettings.load(environ=False, **wiring, ledger=str(out / "ledger.sqlite3"),
                                rules_file=rules_file, reconcile_interval_s=600,
                                api={"port": port}, pools={"batch_ms": 20})
    hub = Hub(settings, clock, start_at=window_origin).start()
    late = time.time() - clock.wall_origin
    if late > 0:
        print(f"warning: the hub was ready {late:.1f}s (wall) after the day began; "
              "the first orders' latency includes that", flush=True)
    print(f"dashboard during the run: {hub.api_url}/", flush=True)
    if scenario.rule_changes:
        _rules_timer(scenario, rules_file, clock)
    try:
        last_event = scenario.origin + timedelta(seconds=events[-1].at if events else start_s)
        with collector_paused():
            backlog, wall = _follow(hub, clock, created, last_event, timeout_s, progress)
        stats = hub.stats()
        schedules = [] if push else hub.pull_schedules()
        from hub.ledger import open_ledger

        ledger = open_ledger(settings.ledger)
        outcomes = _outcomes(ledger, list(created))
        ledger.close()
        _stamp_pull_due(outcomes, schedules)
        messages = httpx.get(suite["dingtalk"] + "/_messages", timeout=10).json()["messages"]
    finally:
        hub.stop()
        suite.stop()
    summary, series = summarise(created, truth, outcomes, speedup=speedup,
                                origin=window_origin, pulled=not push)
    busiest = _busiest_minute([m["at"] for m in messages if isinstance(m.get("at"), str)])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    summary = {
        "scenario": scenario.name, "seed": header.seed, "speedup": speedup,
        "window": "-".join(scenario.window), "mode": "push" if push else "pull",
        "pull_interval_s": None if push else interval_s, **summary,
        "alerts": {"sent": len(messages), "orders_covered": stats["relay"]["alert_orders"],
                   "max_per_minute": busiest},
        "throughput_orders_per_s": round(summary["orders"]["decided"] / wall, 1),
        "peak_backlog": stats["router"]["peak_backlog"],
        "resources": {"cpu_s": round(_cpu_seconds(), 1),
                      "max_rss_mb": round(usage.ru_maxrss / 1024, 1)},
        "wall_s": round(time.perf_counter() - began, 1),
        "pullers": {v["channel"] + (f"/{v['shop']}" if v["shop"] else ""): {
            "pulls": v["pulls"], "errors": v["errors"],
            "mean_pull_wall_s": round(v["wall_s_total"] / max(v["pulls"], 1), 3),
            "max_pull_wall_s": round(v["wall_s_max"], 3),
            "slowest_pull_parts_s": v.get("slowest_parts_s", {})}
            for k, v in stats.items() if k.startswith("puller")},
        "gc_max_pause_s": max_pauses(stats),  # this process's collector was off
    }
    series |= {"window_hours": (end_s - start_s) / 3600, "backlog": backlog,
               **_flow(created, outcomes, window_origin)}
    path = write_report(summary, series, out)
    _print_table(summary, path)
    return summary


def _busiest_minute(stamps: list[str]) -> int:
    """The most messages the robot accepted in any sliding minute (its own clock)."""
    times = sorted(datetime.fromisoformat(t).timestamp() for t in stamps)
    best, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 60.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def _cpu_seconds() -> float:
    """CPU time of this process and of the Ray workers it started."""
    total = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    try:
        import psutil

        for proc in psutil.Process().children(recursive=True):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
    except ImportError:
        pass
    return total


def _flow(created: dict, outcomes: dict, origin: Any) -> dict[str, list[float]]:
    def since(moment: Any) -> float:
        return (moment - origin).total_seconds()

    return {"released": [since(t) for t in created.values()],
            "decided": [since(o.decided_at) for o in outcomes.values() if o.decided_at],
            "shipped": [since(o.shipped_at) for o in outcomes.values() if o.shipped_at]}


def _follow(hub: Any, clock: ScaledClock, created: dict, last_event: Any, timeout_s: float,
            progress: bool) -> tuple[list, float]:
    """Wait until every order is decided (and the warehouse is done), with a progress bar."""
    from tqdm import tqdm

    from hub.ledger import open_ledger

    ledger = open_ledger(hub.settings.ledger)
    bar = tqdm(total=len(created), unit="order", disable=not progress, dynamic_ncols=True,
               desc="decided")
    backlog: list[tuple[float, int]] = []
    started = time.time()
    deadline = started + timeout_s
    settle_since: float | None = None
    try:
        while time.time() < deadline:
            time.sleep(1.0)
            stages = ledger.counts()["stages"]
            pending = sum(stages.get(s, 0) for s in ("received", "validated", "scored"))
            decided = sum(stages.values()) - pending
            in_warehouse = sum(stages.get(s, 0) for s in ("dispatched", "picked", "packed"))
            now = clock.now()
            released = sum(1 for t in created.values() if t <= now)
            backlog.append(((now - clock.origin).total_seconds(), pending))
            bar.n = min(decided, len(created))
            bar.set_postfix(released=released, shipped=stages.get("shipped", 0),
                            held=stages.get("held", 0), backlog=pending, refresh=False)
            bar.refresh()
            everything_out = now >= last_event + timedelta(seconds=2)
            if everything_out and pending == 0 and decided >= len(created):
                settle_since = settle_since or time.time()
                if in_warehouse == 0 or time.time() - settle_since > SETTLE_WALL_S:
                    break
    finally:
        bar.close()
        ledger.close()
    return backlog, max(time.time() - max(started, clock.wall_origin), 1e-6)


def _print_table(summary: dict[str, Any], path: Path) -> None:
    lat = summary["latency_s"]
    orders, anomalies = summary["orders"], summary["anomalies"]
    rows = [
        ("orders generated / decided", f"{orders['generated']} / {orders['decided']}"),
        ("lost / duplicated", f"{orders['lost']} / {orders['duplicated']}"),
        ("delay mean / p99 (business s)", f"{lat['all']['mean']} / {lat['all']['p99']}"),
        ("delay mean / p99 (wall s)", f"{summary['latency_wall_s']['mean']} / "
                                      f"{summary['latency_wall_s']['p99']}"),
        ("  strict: late pulls at business", f"{summary['latency_strict_s']['mean']} / "
                                             f"{summary['latency_strict_s']['p99']}"),
        *((f"  {lane} mean / p99", f"{v['mean']} / {v['p99']}") for lane, v in lat.items()
          if lane != "all"),
        ("anomaly precision / recall", f"{anomalies['precision']} / {anomalies['recall']}"),
        ("detection mean (business s)", f"{anomalies['detection_latency_s']['mean']}"),
        ("needing a person", f"{summary['manual_ratio']}"),
        ("alerts sent / max a minute", f"{summary['alerts']['sent']} / "
                                       f"{summary['alerts']['max_per_minute']}"),
        ("throughput (orders/s wall)", f"{summary['throughput_orders_per_s']}"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(f"\nreport: {path}\nsummary: {path.parent / 'summary.json'}", flush=True)
