"""A live rehearsal: a scenario's trace replayed in wall time (at a speed-up) through
the emulated marketplaces and back offices into the real hub on Ray, followed until the
warehouse has shipped or stopped every order, judged from outside (the trace and the
emulators' records: ``sim.verdict``), with the hub's ledger as a second opinion, written
up as ``summary.json`` and ``report.html``.

    orderhub rehearse double11-42k --out var/rehearsal [--compare fifo]
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import resource
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hub.clock import ScaledClock
from hub.config import HubSettings
from hub.gcwatch import max_pauses
from sim.gcpause import collector_paused
from sim.generator import generate
from sim.measure import Outcome, latency_to_wms, summarise
from sim.report import write_report
from sim.scenario import SCENARIOS, Scenario, ScenarioError, load_scenario, parse_window
from sim.trace import write_trace
from sim.verdict import CASE_COMPLAINTS, HARD_FIGURES, Outside, judge

log = logging.getLogger("orderhub.rehearsal")
DECIDED = ("routed", "held", "auto_remedied")
WARMUP_WALL_S = 15.0  # Ray actors start, workers load the division table and rules
WAREHOUSE_HURRY = 20.0  # the WMS's clock runs this much faster once no order is arriving
DEFAULT_CREW = {"default_workers": 40}  # without [warehouse]: ~2,000 orders an hour a group
DEFAULT_PROMISES = {"same_city": 2.0, "express": 24.0, "standard": 48.0, "live_flash": 24.0,
                    "presale_final": 48.0}  # ship-by hours (issue #19's example)
FIFO_RULES = SCENARIOS / "rules" / "fifo.yaml"
COMPARED = ("verdict", "anomalies", "latency_to_wms_s", "latency_to_wms_strict_s",
            "latency_to_decision_s", "follow", "warehouse")


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


def _load(name: str, window: str | None, folders: Sequence[Path]) -> Scenario:
    try:
        scenario = load_scenario(name, folders=folders)
        span = parse_window(window) if window else scenario.window
        return scenario.model_copy(update={"window": Scenario.model_validate(
            {**scenario.model_dump(), "window": span}).window})
    except (ScenarioError, ValueError) as exc:
        raise RehearsalError(str(exc)) from None


def rehearse(name: str, *, speedup: float | None = None, window: str | None = None,
             seed: int | None = None, out: Path = Path("var/rehearsal"), push: bool = False,
             interval_s: float | None = None, port: int = 0, timeout_s: float = 900.0,
             progress: bool = True, warmup_s: float = WARMUP_WALL_S,
             scenario_folders: Sequence[Path] = (), compare: str | None = None,
             hub_factory: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run one rehearsal and write its report; returns the summary. A scenario ``name``
    is looked up in ``scenario_folders``, then in ``scenarios/``. ``compare="fifo"``
    replays the same trace a second time with first-come-first-served rules
    (``scenarios/rules/fifo.yaml``) into ``out/fifo`` and puts it beside the first run
    (``summary["compare"]["fifo"]``). ``hub_factory(settings, clock, start_at=...)``
    builds the hub (default ``hub.runtime.Hub``; tests pass deliberately broken ones)."""
    if compare not in (None, "fifo"):
        raise RehearsalError(f"--compare {compare}: only 'fifo' is known")
    scenario = _load(name, window, scenario_folders)
    speedup = speedup or scenario.speedup
    interval_s = interval_s or scenario.pull_interval_s
    push = push or scenario.push
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    header, events = generate(scenario, seed, scenario.window)
    write_trace(out / "trace.jsonl", header, events)
    print(f"rehearsal {scenario.name}: seed {header.seed}, window {'-'.join(scenario.window)}, "
          f"{len({e.order.key for e in events if e.order is not None})} orders "
          f"({len(events)} events) at speed-up {speedup:g}, "
          f"{'push' if push else f'pull every {interval_s:g}s'}", flush=True)
    from hub.domain import default_ruleset

    run = Run(scenario, header, events, speedup=speedup, interval_s=interval_s, push=push,
              port=port, timeout_s=timeout_s, progress=progress, warmup_s=warmup_s,
              hub_factory=hub_factory)
    summary, series = run.once(out, default_ruleset().text, crews(scenario), trace=out)
    if compare == "fifo":
        print("\nthe same trace again, first come first served (no lanes)", flush=True)
        fifo_crew = {"default_workers": total_crew(scenario, default_ruleset().text)}
        fifo, fifo_series = run.once(out / "fifo", FIFO_RULES.read_text(encoding="utf-8"),
                                     fifo_crew, trace=out, rule_changes=False)
        summary["compare"] = {"fifo": {k: fifo.get(k) for k in COMPARED}}
        series["compare"] = {"fifo": fifo_series}
    path = write_report(summary, series, out)
    _print_table(summary, path)
    return summary


def crews(scenario: Scenario) -> dict[str, Any]:
    """The WMS's crews: the scenario's ``[warehouse]`` when it has one (contract §4)."""
    given = getattr(scenario, "warehouse", None)
    return dict(given) if given else dict(DEFAULT_CREW)


def total_crew(scenario: Scenario, rules_text: str) -> int:
    """Every worker the lanes run had: the named groups' crews, and the default crew
    for each other packing group the rules can send orders to (one per lane and each
    rule's packing group). The FIFO run gets them all in its one group."""
    import yaml

    crew = crews(scenario)
    named = {g: int((v or {}).get("workers", crew.get("default_workers", 8)))
             for g, v in (crew.get("groups") or {}).items()}
    named |= {g: int(n) for g, n in (crew.get("workers") or {}).items()}
    rules = yaml.safe_load(rules_text).get("rules") or []
    groups = {f"lane-{lane}" for lane in ("P0", "P1", "P2", "P3")} | {
        r["then"]["packing_group"] for r in rules if r.get("then", {}).get("packing_group")}
    default = int(crew.get("default_workers", DEFAULT_CREW["default_workers"]))
    return sum(named.values()) + default * len(groups - set(named))


class Run:
    """One replay of the trace through emulators into a fresh hub, judged from outside."""

    def __init__(self, scenario: Scenario, header: Any, events: list, *, speedup: float,
                 interval_s: float, push: bool, port: int, timeout_s: float, progress: bool,
                 warmup_s: float, hub_factory: Callable[..., Any] | None) -> None:
        self.scenario, self.header, self.events = scenario, header, events
        self.speedup, self.interval_s, self.push = speedup, interval_s, push
        self.port, self.timeout_s, self.progress, self.warmup_s = port, timeout_s, progress, \
            warmup_s
        self.hub_factory = hub_factory
        self.created: dict[tuple, Any] = {}
        self.truth: dict[tuple, tuple] = {}
        for event in events:
            if event.order is not None:
                self.created.setdefault(event.order.key, event.order.modified_at)
                if event.truth:
                    self.truth[event.order.key] = event.truth

    def once(self, out: Path, rules_text: str, crew: dict[str, Any], *, trace: Path,
             rule_changes: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        from hub.runtime import Hub, init_ray
        from sim.emulators.suite import EmulatorSuite, SuiteConfig

        scenario, speedup, push = self.scenario, self.speedup, self.push
        out.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        init_ray(None)
        start_s, end_s = scenario.window_seconds()
        window_origin = scenario.origin + timedelta(seconds=start_s)
        clock = ScaledClock(window_origin, speedup, wall_origin=time.time() + self.warmup_s)
        port = self.port or _free_port()
        hub_url = f"http://127.0.0.1:{port}"
        suite_config = SuiteConfig.model_validate({
            "trace": trace / "trace.jsonl", "speedup": speedup,
            "hub_url": hub_url if push else "",
            "erp": {"stock": scenario.inventory(), "catalogue": scenario.catalogue()},
            "wms": crew,
            "marketplaces": {"channels": sorted(scenario.channels), "push": push}})
        suite = EmulatorSuite(suite_config, clock=clock).start()
        rules_file = out / "rules.yaml"
        rules_file.write_text(rules_text, encoding="utf-8")
        wiring = suite.hub_settings()
        for channel in wiring.get("channels", []):
            # the emulators publish an order the moment it is made: a short safety lag will do
            channel.update(interval_s=self.interval_s, overlap_s=60, safety_lag_s=0.2,
                           page_size=100)
        settings = HubSettings.load(environ=False, **wiring,
                                    ledger=str(out / "ledger.sqlite3"), rules_file=rules_file,
                                    reconcile_interval_s=600, api={"port": port},
                                    pools={"batch_ms": 20})
        hub = (self.hub_factory or Hub)(settings, clock, start_at=window_origin).start()
        late = time.time() - clock.wall_origin
        if late > 0:
            print(f"warning: the hub was ready {late:.1f}s (wall) after the day began; "
                  "the first orders' latency includes that", flush=True)
        print(f"dashboard during the run: {hub.api_url}/", flush=True)
        if scenario.rule_changes and rule_changes:
            _rules_timer(scenario, rules_file, clock)
        try:
            last = scenario.origin + timedelta(
                seconds=self.events[-1].at if self.events else start_s)
            with collector_paused():
                followed = _follow(hub, clock, suite, self.created, last, self.timeout_s,
                                   self.progress)
            stats = hub.stats()
            schedules = [] if push else hub.pull_schedules()
            from hub.ledger import open_ledger

            ledger = open_ledger(settings.ledger)
            outcomes = _outcomes(ledger, list(self.created))
            ledger.close()
            _stamp_pull_due(outcomes, schedules)
            records, provenance = collect_records(suite, out, list(self.created))
        finally:
            hub.stop()
            suite.stop()
        summary, series = summarise(self.created, self.truth, outcomes, speedup=speedup,
                                    origin=window_origin, pulled=not push)
        outside = Outside.read(self.events, records, origin=scenario.origin,
                               alert_clock=_alert_clock(clock), stock=scenario.inventory(),
                               bundles=scenario.expansions())
        promise, promises_from = promises(scenario)
        notice_s = speedup * 1.0 if push else 2 * self.interval_s
        verdict, shipping = judge(outside, promise=promise, notice_s=notice_s,
                                  hold_after_s=max(900.0, 10 * self.interval_s))
        delays = latency_to_wms(outside, speedup=speedup, pulled=not push,
                                pulls=_pulls(schedules))
        delays["latency_to_wms_s"]["target"] = wms_target(delays["latency_to_wms_s"]["all"])
        accepted = [a for a in outside.alerts if a.accepted]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wall = followed.pop("decided_wall_s")
        summary = {
            "scenario": scenario.name, "seed": self.header.seed, "speedup": speedup,
            "window": "-".join(scenario.window), "mode": "push" if push else "pull",
            "pull_interval_s": None if push else self.interval_s,
            "verdict": verdict, "anomalies": verdict.pop("anomalies"), **delays, **summary,
            "alerts": {"sent": len(outside.alerts), "accepted": len(accepted),
                       "refused": verdict["alerts_refused"],
                       "orders_covered": stats["relay"].get("alert_orders"),
                       "max_per_minute": _busiest_minute([a.at.isoformat() for a in accepted],
                                                         scale=speedup)},
            "follow": followed, "records": provenance, "promises": promises_from,
            "warehouse": crew,
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
        series |= {"window_hours": (end_s - start_s) / 3600, "window_start_s": start_s,
                   "backlog": followed.pop("backlog"), **shipping,
                   **_flow(self.created, outcomes, window_origin)}
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        return summary, series


def promises(scenario: Scenario) -> tuple[Callable[[str, str], float], str]:
    """Ship-by hours after payment: the scenario's ``[promises]`` (contract §4), else the
    issue's example table (said so in the summary)."""
    given = getattr(scenario, "promise_hours", None)
    if callable(given):
        return given, "scenario"
    return (lambda order_type, delivery: DEFAULT_PROMISES.get(order_type)
            or DEFAULT_PROMISES.get(delivery, 48.0)), "default (the scenario has none)"


def _pulls(schedules: list[dict]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    return {(p["channel"], p["shop"]): sorted((asked, due) for due, asked in p["pulls"])
            for p in schedules}


def _alert_clock(clock: ScaledClock) -> Callable[[str], datetime]:
    """The robot keeps wall time (DingTalk checks against real time): a message stamped
    near the wall's now is moved onto the business clock; business stamps stay."""
    def business(stamp: str) -> datetime:
        moment = datetime.fromisoformat(stamp)
        if abs(moment.timestamp() - time.time()) < 86400 and \
                abs((moment - clock.now()).total_seconds()) > 86400:
            return clock.business_at(moment.timestamp())
        return moment

    return business


def collect_records(suite: Any, out: Path, keys: list[tuple]) -> tuple[dict, dict[str, Any]]:
    """The emulators' own records (``suite.write_records(out)`` writes
    ``out/records/<name>.json``), read back for the verdict; the summary says which
    expected ones are missing."""
    suite.write_records(out)
    folder = out / "records"
    records = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in sorted(folder.glob("*.json"))}
    missing = [n for n in ("wms", "dingtalk") if n not in records]
    return records, {"source": "emulators", "missing": missing}


def _busiest_minute(stamps: list[str], scale: float = 1.0) -> int:
    """The most messages the robot accepted in any sliding minute of its own clock (wall
    time: ``scale`` business seconds a wall second when the stamps are business times)."""
    times = sorted(datetime.fromisoformat(t).timestamp() for t in stamps)
    best, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 60.0 * scale:
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


def _in_warehouse(suite: Any) -> int | None:
    """Warehouse orders the WMS has not shipped or stopped yet (None: it did not answer)."""
    try:
        stages = httpx.get(suite["wms"] + "/_stats", timeout=10).json()["wms"]["by_stage"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None
    return sum(stages.get(s, 0) for s in ("dispatched", "picked", "packed"))


def _hurry_warehouse(suite: Any, factor: float) -> bool:
    """Run the WMS's clock ``factor`` times faster, if it offers it."""
    try:
        answer = httpx.post(suite["wms"] + "/_control/clock", json={"factor": factor},
                            timeout=10)
    except httpx.HTTPError:
        return False
    return answer.status_code < 300


def _follow(hub: Any, clock: ScaledClock, suite: Any, created: dict, last_event: Any,
            timeout_s: float, progress: bool) -> dict[str, Any]:
    """Wait until every order is decided, the warehouse has shipped or stopped every
    order it took (a held order stays held: no one releases it here) and the hub's
    outbox is empty (its alerts out), with a progress bar; ``timeout_s`` wall seconds at
    most."""
    from tqdm import tqdm

    from hub.ledger import open_ledger

    ledger = open_ledger(hub.settings.ledger)
    bar = tqdm(total=len(created), unit="order", disable=not progress, dynamic_ncols=True,
               desc="decided")
    backlog: list[tuple[float, int]] = []
    started = time.time()
    deadline = started + timeout_s
    decided_wall: float | None = None
    hurried = quiet = 0
    in_warehouse: int | None = None
    try:
        while time.time() < deadline:
            time.sleep(1.0)
            stages = ledger.counts()["stages"]
            pending = sum(stages.get(s, 0) for s in ("received", "validated", "scored"))
            decided = sum(stages.values()) - pending
            now = clock.now()
            released = sum(1 for t in created.values() if t <= now)
            backlog.append(((now - clock.origin).total_seconds(), pending))
            in_warehouse = _in_warehouse(suite)
            bar.n = min(decided, len(created))
            bar.set_postfix(released=released, shipped=stages.get("shipped", 0),
                            held=stages.get("held", 0), backlog=pending,
                            warehouse=in_warehouse, refresh=False)
            bar.refresh()
            everything_out = now >= last_event + timedelta(seconds=2)
            if not (everything_out and pending == 0 and decided >= len(created)):
                continue
            if decided_wall is None:
                decided_wall = time.time()
                hurried = WAREHOUSE_HURRY if _hurry_warehouse(suite, WAREHOUSE_HURRY) else 1
            # done when the warehouse is idle and every message the hub owes is out (an
            # alert still queued behind DingTalk's rate limit names orders held meanwhile)
            owed = ledger.pending_count()
            quiet = quiet + 1 if in_warehouse == 0 and owed == 0 else 0
            if quiet >= 2:  # twice: a dispatch in flight between two looks is not missed
                break
    finally:
        bar.close()
        ledger.close()
    return {"complete": quiet >= 2, "in_warehouse_at_end": in_warehouse,
            "warehouse_clock_factor": hurried, "timeout_s": timeout_s,
            "decided_wall_s": max((decided_wall or time.time())
                                  - max(started, clock.wall_origin), 1e-6),
            "backlog": backlog}


WMS_TARGET = {"mean_s": 16.0, "p99_s": 31.0}  # issue #19's figure at a 30 s pull


def wms_target(figures: dict[str, Any]) -> dict[str, Any]:
    """Whether the delay to the WMS met the target (reported, not part of the exit code:
    a drill that takes a marketplace down for minutes cannot meet it by construction).

    >>> wms_target({"mean": 15.0, "p99": 29.6})["met"]
    True
    >>> wms_target({"mean": 22.1, "p99": 241.1})["met"]
    False
    """
    mean, p99 = figures.get("mean"), figures.get("p99")
    met = mean is not None and p99 is not None and mean <= WMS_TARGET["mean_s"] \
        and p99 <= WMS_TARGET["p99_s"]
    return {**WMS_TARGET, "met": met}


def _print_table(summary: dict[str, Any], path: Path) -> None:
    v, wms = summary["verdict"], summary["latency_to_wms_s"]
    strict, anomalies = summary["latency_to_wms_strict_s"], summary["anomalies"]
    dec = summary["latency_to_decision_s"]["all"]
    on_time = v["on_time"]["lane"]
    rows = [
        ("orders generated / owed / shipped", f"{v['orders']['generated']} / "
                                              f"{v['orders']['owed']} / {v['orders']['shipped']}"),
        *((name, str(v[name])) for name in HARD_FIGURES),
        ("unavoidable shipped after cancel", str(v["unavoidable_shipped_after_cancel"])),
        ("held clean (count / never reached)", f"{v['held_clean']['count']} / "
                                               f"{v['held_clean']['never_reached_wms']}"),
        ("alerts refused", str(v["alerts_refused"])),
        ("late / complaint risk", f"{v['late']['count']} / {v['complaint_risk']} "
                                  f"(case {CASE_COMPLAINTS['before']} -> "
                                  f"{CASE_COMPLAINTS['after']})"),
        ("to WMS mean / p99 (business s)", f"{wms['all']['mean']} / {wms['all']['p99']}"),
        ("  target mean <= 16 / p99 <= 31", "met" if wms.get("target", {}).get("met")
         else "MISSED (reported, not in the exit code)"),
        ("  strict mean / p99", f"{strict['all']['mean']} / {strict['all']['p99']}"),
        *((f"  {lane} mean / p99", f"{s['mean']} / {s['p99']}")
          for lane, s in wms["by_lane"].items()),
        *((f"  on time {lane}", f"{s['share']} ({s['on_time']}/{s['on_time'] + s['late']})")
          for lane, s in on_time.items()),
        ("to decision mean / p99 (ledger)", f"{dec['mean']} / {dec['p99']}"),
        ("anomaly precision / recall", f"{anomalies['precision']} / {anomalies['recall']}"),
        ("  odd negatives flagged", f"{anomalies['hard_negatives']['flagged']} of "
                                    f"{anomalies['hard_negatives']['n']}"),
        ("detection mean (business s)", f"{anomalies['detection_delay_s']['mean']}"),
        ("alerts accepted / max a minute", f"{summary['alerts']['accepted']} / "
                                           f"{summary['alerts']['max_per_minute']}"),
        ("followed to the end", f"{summary['follow']['complete']}"),
        ("records", summary["records"]["source"]),
    ]
    fifo = summary.get("compare", {}).get("fifo")
    if fifo:
        rows += [(f"fifo: on time {lane}", f"{s['share']}")
                 for lane, s in fifo["verdict"]["on_time"]["lane"].items()]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(f"\nreport: {path}\nsummary: {path.parent / 'summary.json'}", flush=True)
