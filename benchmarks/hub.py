"""The whole hub on a local Ray against the emulators on loopback, at rising arrival rates.

    python -m benchmarks.hub            # 60 s a step, push mode then pull mode
    python -m benchmarks.hub --quick    # 10 s a step

For each mode (push: the marketplaces POST to the hub's /push/{channel}; pull: the
pullers ask every ``--pull-interval`` seconds) the hub is started on a fresh SQLite
ledger and fed a step ladder of arrival rates. A step's orders are generated before
the step starts (in the emulator process) and become visible at their scheduled
instants. A step is *sustained* when it meets RULE; climbing stops at the first step
that does not. Figures go to ``benchmarks/results/hub.json``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.hub_feed import EmulatorProcess, make_orders
from benchmarks.hub_overhead import bound_beside, idle, overhead, useful_work
from benchmarks.hub_probe import (
    CpuSampler,
    StackSampler,
    actor_time,
    latency_stats,
    ledger_counts,
    load_average,
    slope_per_s,
    step_latencies,
    window_cost,
)
from benchmarks.hub_report import HEADER, bottleneck, compare, cores, line, per_order
from benchmarks.hub_whatif import WHAT_IFS, applied
from hub.domain import SHANGHAI

WARM_UP = (50, 4.0)  # orders/s, seconds
RATES = (50, 100, 250, 500, 1000, 2000, 3000, 4000, 6000, 8000, 10000, 12000)
TARGET = 10_000
DECIDED_SHARE = 0.97
SLOPE_SHARE = 0.02
SKIP = 0.2  # share of a step left out of the steady-state fits (the change of rate)
RULE = (f"sustained = over the step's steady part (its first {SKIP:.0%} left out), sampled "
        f"every second: decided rate (least-squares slope of orders durably decided) >= "
        f"{DECIDED_SHARE} x offered rate, AND the backlog (orders released by the "
        "marketplaces minus orders durably decided) did not grow: its least-squares slope "
        f"<= {SLOPE_SHARE} x offered rate per second")
SPIED = ("Router", "Validator", "LedgerService", "ShopPullers", "driver (hub API)")
OUT = Path(__file__).parent / "results" / "hub.json"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ladder:
    """One mode's run: emulators, hub, and the steps."""

    def __init__(self, mode: str, rates: list[int], step_s: float, workdir: Path, *,
                 pull_interval_s: float = 1.0, overlap_s: float = 1.0, drain_s: float = 60.0,
                 pools: dict[str, Any] | None = None, progress: bool = True,
                 catchup_s: float = 30.0, warm_up: bool = True,
                 what_if: str | None = None, py_spy: str | None = None,
                 ingest_batch: int | None = None, climb: bool = True,
                 step_s_by_rate: dict[int, float] | None = None) -> None:
        self.mode, self.rates, self.step_s = mode, rates, step_s
        self.climb, self.step_s_by_rate = climb, step_s_by_rate or {}
        self.channel_options = {} if ingest_batch is None else {"ingest_batch": ingest_batch}
        self.workdir, self.pull_interval_s, self.overlap_s = workdir, pull_interval_s, overlap_s
        self.drain_s, self.pools, self.progress = drain_s, pools or {}, progress
        self.catchup_s, self.warm_up, self.what_if = catchup_s, warm_up, what_if
        self.spy = StackSampler(py_spy) if py_spy else None
        self.starts: list[tuple[float, float, int]] = []  # per step: (wall start, rate, n)
        self.released_before = 0
        self.rows: list[dict[str, Any]] = []

    def say(self, text: str) -> None:
        if self.progress:
            print(text, flush=True)

    def created(self, step: int, index: int) -> float:
        start, rate, _ = self.starts[step]
        return start + index / rate

    def released(self, now: float) -> int:
        """Orders released by the marketplaces so far (by the schedule)."""
        total = self.released_before
        if self.starts:
            start, rate, n = self.starts[-1]
            total += max(0, min(n, int((now - start) * rate) + 1))
        return total

    def run(self) -> dict[str, Any]:
        from hub.clock import ScaledClock
        from hub.config import HubSettings
        from hub.ledger import open_ledger
        from hub.runtime import Hub, init_ray

        init_ray(None)
        push = self.mode == "push"
        clock = ScaledClock(datetime.now(SHANGHAI), 1.0, wall_origin=time.time())
        port = _free_port()
        hub_url = f"http://127.0.0.1:{port}"
        emulators = EmulatorProcess({"hub_url": hub_url if push else "",
                                     "marketplaces": {"push": push},
                                     "wms": {"default_workers": 200}}, clock).start()
        hub = reader = None
        try:
            wiring = emulators.wiring
            for channel in wiring["channels"]:
                interval = self.catchup_s if push else self.pull_interval_s
                channel.update(interval_s=interval, overlap_s=self.overlap_s, safety_lag_s=0.2,
                               page_size=100, **self.channel_options)
            tag = self.what_if or ('as-is' if self.climb else 'idle')
            ledger_path = self.workdir / f"hub-{self.mode}-{tag}.sqlite3"
            settings = HubSettings.load(environ=False, **wiring, ledger=str(ledger_path),
                                        reconcile_interval_s=3600, api={"port": port},
                                        pools=self.pools)
            with applied(self.what_if):
                hub = Hub(settings, clock, start_at=clock.now()).start()
            reader = open_ledger(settings.ledger, checkpoint_every_s=None)  # a reader only
            cpu = CpuSampler(emulators.pid)
            if self.warm_up:
                self._warm_up(hub, emulators, clock)
            else:
                self.starts.append((time.time(), 1.0, 0))
            for step, rate in enumerate(self.rates, start=1):
                self.step_s = self.step_s_by_rate.get(rate, self.step_s)
                row = self._step(step, rate, hub, reader, emulators, cpu, clock)
                self.rows.append(row)
                self.say(line(self.mode, row))
                if self.climb and not row["sustained"]:
                    break
            drained = self._drain(hub)
        finally:
            if hub is not None:
                hub.stop(drain_s=10.0)
            emulators.stop()
        lat = step_latencies(reader, self.created)
        reader.close()
        for row in self.rows:
            got = lat.get(row["step"], {"received": 0, "decided": 0, **latency_stats([])})
            row.update(fed=row.pop("scheduled"), received_total=got["received"],
                       decided_total=got["decided"], latency_s={k: got[k] for k in
                                                                ("p50_s", "p99_s", "max_s")})
        for row in self.rows:
            lat = row["latency_s"]
            self.say(f"{self.mode:<5} {row['rate']:>6}: fed {row['fed']}, decided "
                     f"{row['decided_total']}, creation-to-decision p50 {lat['p50_s']} s, "
                     f"p99 {lat['p99_s']} s, hub CPU {row['hub_cpu_ms_per_order']} ms/order")
        held = [r for r in self.rows if r["sustained"]]
        best = held[-1] if held else None
        return {"mode": self.mode,
                "pull_interval_s": self.catchup_s if push else self.pull_interval_s,
                "overlap_s": self.overlap_s, "drained": drained,
                "max_sustained_orders_per_s": best["rate"] if best else 0,
                "p99_latency_s_at_max": best["latency_s"]["p99_s"] if best else None,
                "steps": self.rows}

    def _step(self, step: int, rate: int, hub: Any, reader: Any, emulators: EmulatorProcess,
              cpu: CpuSampler, clock: Any) -> dict[str, Any]:
        import ray

        n = int(rate * self.step_s)
        start = time.time() + 2.0 + n * 120e-6  # time to generate the step's orders
        scheduled = emulators.load(self.mode, step, rate, clock.business_at(start), self.step_s)
        late_s = max(time.time() - start, 0.0)
        self.released_before += self.starts[-1][2] if self.starts else 0
        self.starts.append((start, rate, scheduled))
        time.sleep(max(start - time.time(), 0.0))
        before = ledger_counts(reader)
        router0 = ray.get(hub.router.stats.remote())
        backlog0 = self.released(time.time()) - before["decided"]
        cpu.delta()
        backlog: list[tuple[float, float]] = []
        committed: list[tuple[float, float]] = []
        end = start + self.step_s
        spied = self.spy is None
        while (now := time.time()) < end:
            if not spied and now - start >= SKIP * self.step_s:
                spied = True
                self.spy.start(cpu.pids(*SPIED), min(20.0, 0.6 * self.step_s))
            time.sleep(min(1.0, max(end - now, 0.0)))
            router = ray.get(hub.router.stats.remote())
            now = time.time()
            backlog.append((now - start, self.released(now) - router["committed"]))
            committed.append((now - start, router["committed"]))
        wall = time.time() - start
        after = ledger_counts(reader)
        router1 = ray.get(hub.router.stats.remote())
        usage = cpu.delta()
        profile = actor_time(start, start + wall)
        decided = after["decided"] - before["decided"]
        batches = router1["batches"] - router0["batches"]
        backlog1 = self.released(time.time()) - after["decided"]
        steady = int(len(backlog) * SKIP)
        slope = slope_per_s(backlog[steady:])
        decided_fit = slope_per_s(committed[steady:])
        row = {
            "step": step, "rate": rate, "scheduled": scheduled, "late_start_s": round(late_s, 2),
            "offered_per_s": round(scheduled / self.step_s, 1),
            "ingested_per_s": round((after["total"] - before["total"]) / wall, 1),
            "decided_per_s": round(decided_fit, 1),
            "ledger_decided_per_s": round(decided / wall, 1),
            "backlog_start": {"total": backlog0, "router": router0["backlog"],
                              "ledger_undecided": before["undecided"]},
            "backlog_end": {"total": backlog1, "router": router1["backlog"],
                            "ledger_undecided": after["undecided"]},
            "backlog_slope_per_s": round(slope, 1),
            "router": {"batches": batches,
                       "mean_batch": round(decided / batches, 1) if batches else None,
                       "peak_backlog": router1["peak_backlog"],
                       "errors": router1["errors"] - router0["errors"]},
            "cpu_pct": usage, "actor_time": profile, "load_average": load_average(),
        }
        per_order(row, wall, decided)
        if self.spy is not None:
            row["stacks"] = self.spy.summary()
        row["sustained"] = bool(decided_fit >= DECIDED_SHARE * scheduled / self.step_s
                                and slope <= SLOPE_SHARE * rate)
        return row

    def _warm_up(self, hub: Any, emulators: EmulatorProcess, clock: Any) -> None:
        """Step 0, not reported: actors load their tables and rules, connections open."""
        start = time.time() + 1.0
        n = emulators.load(self.mode, 0, WARM_UP[0], clock.business_at(start), WARM_UP[1])
        self.starts.append((start, WARM_UP[0], n))
        self.say(f"{self.mode}: warming up with {n} orders")
        if not self._drain(hub):
            self.say(f"{self.mode}: warm-up not decided within {self.drain_s:.0f}s")

    def _drain(self, hub: Any) -> bool:
        """Wait (at most ``drain_s``) until everything released is decided."""
        import ray

        deadline = time.time() + self.drain_s
        total = self.released_before + (self.starts[-1][2] if self.starts else 0)
        while time.time() < deadline:
            if ray.get(hub.router.stats.remote())["committed"] >= total:
                return True
            time.sleep(0.5)
        return False


def run(rates: list[int], *, step_s: float, modes: list[str], out: Path | None = OUT,
        workdir: Path | None = None, pull_interval_s: float = 1.0, overlap_s: float = 1.0,
        drain_s: float = 60.0, pools: dict[str, Any] | None = None, catchup_s: float = 30.0,
        warm_up: bool = True, what_if: str | None = None, py_spy: str | None = None,
        progress: bool = True, ingest_batch: int | None = None, idle_s: float = 0.0,
        surge: int = 500, surge_s: float = 40.0, work_orders: int = 0,
        idle_mode: str = "push") -> dict[str, Any]:
    """The benchmark's core: each mode's ladder, the figures, written to ``out``. With
    ``what_if``, push mode runs once more with that change (``benchmarks.hub_whatif``).
    ``work_orders``: measure the useful work (domain + ledger) with that many orders
    before and after the ladders, and the hub's overhead ratio (``hub_overhead``);
    ``idle_s``: measure the idle cost that long, then a ``surge``."""
    began, load0 = time.time(), load_average()
    useful = [useful_work(work_orders)] if work_orders else []
    if useful and progress:
        print(f"useful work before: {useful[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        work = Path(workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if progress:
            print(RULE, flush=True)
            print(HEADER, flush=True)
        def ladder(mode: str, change: str | None = None) -> dict[str, Any]:
            return Ladder(mode, rates, step_s, work, pull_interval_s=pull_interval_s,
                          overlap_s=overlap_s, drain_s=drain_s, pools=pools,
                          catchup_s=catchup_s, warm_up=warm_up, what_if=change,
                          py_spy=py_spy, progress=progress, ingest_batch=ingest_batch).run()

        results = {m: ladder(m) for m in modes}
        quiet = None
        if idle_s > 0:
            if progress:
                print(f"idle cost: {idle_mode} mode, 30 s pulls, 1 order/s for {idle_s:.0f}s, then "
                      f"{surge} orders/s for {surge_s:.0f}s", flush=True)
            quiet = idle(lambda rates, by_rate: Ladder(
                idle_mode, rates, idle_s, work, pull_interval_s=30.0, catchup_s=30.0,
                overlap_s=overlap_s,
                drain_s=max(drain_s, 90.0), pools=pools, climb=False, step_s_by_rate=by_rate,
                progress=progress).run(), idle_s=idle_s, surge=surge, surge_s=surge_s)
        if what_if and progress:
            print(f"what-if {what_if}:", flush=True)
        changed = ladder("push", what_if) if what_if else None
    best = max(results.values(), key=lambda r: r["max_sustained_orders_per_s"])
    figures = {
        "benchmark": "hub", "rates": rates, "step_s": step_s, "rule": RULE,
        "max_sustained_orders_per_s": best["max_sustained_orders_per_s"],
        "max_sustained_mode": best["mode"],
        "p99_latency_s_at_max": best["p99_latency_s_at_max"],
        "target_orders_per_s": TARGET,
        "target_met": best["max_sustained_orders_per_s"] >= TARGET,
        "modes": results,
        "profile": {"bottleneck": {m: bottleneck(r) for m, r in results.items()},
                    "recent_window_cost": window_cost([o for _, o in make_orders(
                        "push", 0, 1000.0, datetime.now(SHANGHAI), 5.0)])},
        "what_if": None if changed is None else {
            "change": what_if, "max_sustained_orders_per_s": changed["max_sustained_orders_per_s"],
            "p99_latency_s_at_max": changed["p99_latency_s_at_max"],
            "bottleneck": bottleneck(changed), "push": changed,
            "compared": compare(results.get("push"), changed)},
        "machine": {"cpus": cores(), "load_average_start": load0,
                    "load_average_end": load_average()},
        "wall_s": round(time.time() - began, 1),
    }
    if quiet is not None:
        figures["idle"] = quiet
        figures["idle_cpu_cores"] = quiet["idle_cpu_cores"]
    if useful:
        if out is not None:  # kept if the bound's measurement fails
            out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        ceiling = bound_beside(figures, work_orders)
        useful.append(ceiling.pop("useful_work"))
        figures["hub_bound"] = ceiling
        figures["overhead"] = overhead(results, useful)
        figures["overhead_ratio"] = figures["overhead"]["overhead_ratio"]
        figures["wall_s"] = round(time.time() - began, 1)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return figures


def _start_ray(tries: int = 3) -> None:
    """Ray gives its raylet 30 s to register; on a loaded machine that can run out."""
    import ray

    from hub.runtime import init_ray

    for attempt in range(1, tries + 1):
        try:
            init_ray(None)
            return
        except Exception as exc:
            if attempt == tries:
                raise
            print(f"Ray did not start ({exc}); trying again", flush=True)
            ray.shutdown()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10 s steps instead of 60 s")
    p.add_argument("--step-s", type=float, help="seconds a step is held")
    p.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=RATES,
                   help="comma-separated orders/s (default %(default)s)")
    p.add_argument("--modes", default="push,pull", help="push, pull or both (default)")
    p.add_argument("--pull-interval", type=float, default=1.0)
    p.add_argument("--overlap", type=float, default=1.0, help="pull window overlap (s)")
    p.add_argument("--push-catchup", type=float, default=30.0,
                   help="pull interval in push mode, where pulling only catches up (s)")
    p.add_argument("--drain-s", type=float, help="wait for the backlog after the ladder")
    p.add_argument("--ingest-batch", type=int, metavar="N",
                   help="orders a puller gathers a ledger call (default: the hub's)")
    p.add_argument("--validators", type=int, default=1)
    p.add_argument("--scorers", type=int, default=1)
    p.add_argument("--what-if", choices=WHAT_IFS,
                   help="also run push mode with this change to the hub (hub_whatif.py)")
    p.add_argument("--py-spy", default="py-spy", metavar="EXE",
                   help="sample the router's, validator's, ledger's and API's stacks with this "
                        "py-spy during each step (skipped when not found)")
    p.add_argument("--idle-s", type=float, default=None,
                   help="seconds of the idle-cost step (1 order/s, 30 s pulls); 0 skips it "
                        "(default 120; --quick 40)")
    p.add_argument("--idle-mode", default="push", choices=("push", "pull"),
                   help="how the idle step's orders come (both with 30 s pulls; default push: "
                        "the surge after it then shows how fast the hub reacts)")
    p.add_argument("--surge", type=int, default=500, help="orders/s of the step after idle")
    p.add_argument("--surge-s", type=float, default=40.0)
    p.add_argument("--work-orders", type=int, default=None,
                   help="orders the useful work (domain + ledger) and the bound are measured "
                        "with, before and after the ladders; 0 skips (default 5000)")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    step_s = a.step_s or (10.0 if a.quick else 60.0)
    _start_ray()
    figures = run(list(a.rates), step_s=step_s, modes=a.modes.split(","), out=a.out,
                  pull_interval_s=a.pull_interval, overlap_s=a.overlap,
                  drain_s=a.drain_s or (20.0 if a.quick else 60.0),
                  pools={"validators": a.validators, "scorers": a.scorers},
                  catchup_s=a.push_catchup, what_if=a.what_if, py_spy=a.py_spy,
                  ingest_batch=a.ingest_batch,
                  idle_s=a.idle_s if a.idle_s is not None else (40.0 if a.quick else 120.0),
                  surge=a.surge, surge_s=a.surge_s, idle_mode=a.idle_mode,
                  work_orders=a.work_orders if a.work_orders is not None else 5000)
    if a.out is not None:  # the command that made these figures
        figures["command"] = "python -m benchmarks.hub " + " ".join(argv or sys.argv[1:])
        a.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"\nmax sustained: {figures['max_sustained_orders_per_s']} orders/s "
          f"({figures['max_sustained_mode']}), p99 creation-to-decision "
          f"{figures['p99_latency_s_at_max']} s; target {TARGET}: "
          f"{'met' if figures['target_met'] else 'NOT met'}")
    for text in figures["profile"]["bottleneck"].values():
        print("bottleneck:", text)
    cost = figures["profile"]["recent_window_cost"]
    print(f"recent-orders window sent with each validator batch: {cost['pickle_us']} us + "
          f"{cost['unpickle_us']} us per order (pickle + unpickle); seconds per batch once "
          f"the window is full, by arrival rate: {cost['seconds_per_batch_when_full']}")
    if "overhead" in figures:
        o = figures["overhead"]
        print(f"overhead ratio {o['overhead_ratio']} ({o['mode']} at {o['rate']}/s): hub "
              f"{o['hub_cpu_us_per_order']} us/order over domain {o['domain_us_per_order']} "
              f"+ ledger {o['ledger_us_per_order']} us; bound "
              f"{figures['hub_bound']['orders_per_s']}/s")
    if "idle" in figures:
        i = figures["idle"]
        print(f"idle: {i['idle_cpu_cores']} cores (Ray's own "
              f"{i.get('ray_daemons_and_idle_workers_cores')}); surge {i.get('surge')}")
    print(f"load average {figures['machine']['load_average_end']}; figures: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
