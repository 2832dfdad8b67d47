"""The same load on a one-node and on a two-node Ray cluster, both on this machine, with
the PostgreSQL ledger: what each order costs in CPU, by part of the hub.

    python -m benchmarks.cluster            # 250 orders/s for 40 s on each topology
    python -m benchmarks.cluster --quick    # 100 orders/s for 15 s

For each topology a cluster is started with Ray's own tooling (``sim.cluster``: ``ray
start --head`` and, for two nodes, ``ray start --address=...``), the hub runs as an
operator runs it (``orderhub run --ray-address ... --config ...``, its own process) on a
fresh PostgreSQL schema, and the emulators (``benchmarks.hub_feed``, a child process)
release clean orders at ``--rate`` for ``--seconds``, pulled every second. CPU is the
process CPU time (psutil, user + system) from the first order released until the last
one is decided and the outbox is delivered, of: each actor's worker process (named by
its class), the hub's own process (API, supervisor), Ray's system processes (raylets,
GCS, dashboard, agents, idle workers) and the PostgreSQL backends serving the hub's
connections (matched by their client port). Both nodes share the same two cores, so the
two-node figures show what the topology costs (more processes, cross-raylet traffic),
not how it scales.

Results: ``benchmarks/results/cluster.json``: per topology ``per_order_cpu_s`` (total,
and ``by_part``), the offered and decided rates, wall time, and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks.hub_feed import EmulatorProcess
from benchmarks.hub_probe import ledger_counts, load_average

OUT = Path(__file__).parent / "results" / "cluster.json"
REPO = Path(__file__).parents[1]
PARTS = {"ShopPullers": "pullers", "Validator": "pools", "Scorer": "pools",
         "Router": "router", "LedgerService": "ledger writer", "OutboxRelay": "relay",
         "Reconciler": "reconciler", "RuleStore": "rule store"}
HUB_PARTS = ("pullers", "pools", "router", "ledger writer", "relay", "reconciler",
             "rule store", "hub process (API, supervisor)", "ray system",
             "postgres backends")


def _part(proc: psutil.Process, hub_pid: int) -> str:
    if proc.pid == hub_pid:
        return "hub process (API, supervisor)"
    title = proc.cmdline()
    head = title[0] if title else ""
    if head.startswith("ray::"):
        name = head[5:].split(".")[0].strip()
        return PARTS.get(name, "ray system")
    return "ray system"


def _pg_backends(procs: list[psutil.Process], pg_port: int) -> list[psutil.Process]:
    """The PostgreSQL server processes at the other end of ``procs``' connections."""
    ports = set()
    for proc in procs:
        try:
            ports |= {c.laddr.port for c in proc.net_connections("tcp")
                      if c.raddr and c.raddr.port == pg_port}
        except psutil.Error:
            continue
    out = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "postgres" and any(
                    c.raddr and c.raddr.port in ports for c in proc.net_connections("tcp")):
                out.append(proc)
        except psutil.Error:
            continue
    return out


class HubCpu:
    """CPU seconds per part of the hub, from its processes' CPU times."""

    def __init__(self, cluster: Any, hub_pid: int, pg_port: int) -> None:
        self.cluster, self.hub_pid, self.pg_port = cluster, hub_pid, pg_port

    def processes(self) -> dict[int, tuple[str, psutil.Process]]:
        hub = psutil.Process(self.hub_pid)
        procs = [hub, *hub.children(recursive=True)]
        for node in [self.cluster.head, *self.cluster.workers]:
            raylet = node.raylet()
            if raylet is not None:
                procs += [raylet, *raylet.children(recursive=True)]
        procs += [p for p in self.cluster.processes() if p.pid not in {q.pid for q in procs}]
        out: dict[int, tuple[str, psutil.Process]] = {}
        for proc in procs:
            try:
                out[proc.pid] = (_part(proc, self.hub_pid), proc)
            except psutil.Error:
                continue
        for proc in _pg_backends([p for _, p in out.values()], self.pg_port):
            out[proc.pid] = ("postgres backends", proc)
        return out

    def sample(self) -> dict[int, tuple[str, float]]:
        out = {}
        for pid, (part, proc) in self.processes().items():
            try:
                t = proc.cpu_times()
                out[pid] = (part, t.user + t.system)
            except psutil.Error:
                continue
        return out

    @staticmethod
    def used(before: dict[int, tuple[str, float]],
             after: dict[int, tuple[str, float]]) -> dict[str, float]:
        """CPU seconds per part between two samples; a process born in between counts
        from its start."""
        used: dict[str, float] = defaultdict(float)
        for pid, (part, cpu) in after.items():
            used[part] += max(cpu - before.get(pid, (part, 0.0))[1], 0.0)
        return dict(used)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_topology(nodes: int, rate: float, seconds: float, dsn: str, workdir: Path,
                 drain_s: float) -> dict[str, Any]:
    from hub.clock import ScaledClock
    from hub.domain import SHANGHAI
    from hub.ledger import open_ledger
    from sim.cluster import LocalCluster
    from sim.cluster_hub import HubProcess, own_secrets, status, write_config

    schema = f"orderhub_bench_{uuid.uuid4().hex[:8]}"
    ledger_url = f"{dsn}?schema={schema}"
    began = time.monotonic()
    _say(f"{nodes} node(s): starting the cluster")
    with LocalCluster(workers=nodes - 1, cpus=2, env={"PYTHONPATH": str(REPO)}) as cluster:
        clock = ScaledClock(datetime.now(SHANGHAI), 1.0, wall_origin=time.time())
        secrets = own_secrets(["tmall", "jd", "douyin"])
        emulators = EmulatorProcess({**secrets, "wms": {**secrets["wms"],
                                                        "default_workers": 200}}, clock).start()
        hub = None
        try:
            wiring = emulators.wiring
            for channel in wiring["channels"]:
                channel |= {"interval_s": 1.0, "overlap_s": 1.0, "safety_lag_s": 0.2,
                            "page_size": 100}
            config = write_config(workdir / f"hub-{nodes}.toml", {
                "ledger": ledger_url, "start_at": clock.now(), "reconcile_interval_s": 3600,
                "clock": clock.as_dict(), "api": {"port": 0}, **wiring})
            _say(f"{nodes} node(s): starting the hub (orderhub run --ray-address ...)")
            hub = HubProcess(["--ray-address", cluster.address, "--config", str(config),
                              "--drain-s", "10"], cluster.env, workdir / f"hub-{nodes}.log",
                             cwd=REPO).start()
            placement = status(config, cluster.address, cluster.env)["placement"]
            reader = open_ledger(ledger_url, reader=True)
            meter = HubCpu(cluster, hub.proc.pid, int(dsn.rsplit(":", 1)[1].split("/")[0]))
            warm = emulators.load("pull", 0, 20, clock.business_at(time.time() + 1), 3)
            _wait_decided(reader, warm, drain_s)
            _say(f"{nodes} node(s): warmed up with {warm} orders; offering {rate:g}/s for "
                 f"{seconds:g} s")
            start = time.time() + 2.0 + rate * seconds * 120e-6
            offered = emulators.load("pull", 1, rate, clock.business_at(start), seconds)
            before = meter.sample()  # before the first order shows: none of its work missed
            time.sleep(max(start - time.time(), 0.0))
            t0 = time.monotonic()
            done = _wait_decided(reader, warm + offered, seconds + drain_s, every=2.0,
                                 say=lambda n: _say(f"  decided {n - warm}/{offered}"))
            decided_s = time.monotonic() - t0
            delivered = _wait_delivered(reader, 60.0)  # the relay's share counted in full
            wall = time.monotonic() - t0
            after = meter.sample()
            decided = ledger_counts(reader)["decided"] - warm  # the warm-up all decided
            reader.close()
        finally:
            if hub is not None:
                hub.stop()
            emulators.stop()
            _drop(dsn, schema)
        used = HubCpu.used(before, after)
    total = sum(used.values())
    per_order = {part: round(used.get(part, 0.0) / max(decided, 1), 6) for part in HUB_PARTS}
    return {
        "nodes": nodes, "offered_orders": offered, "offered_per_s": rate, "seconds": seconds,
        "decided_orders": decided, "all_decided": done, "outbox_delivered": delivered,
        "decided_per_s": round(decided / decided_s, 1), "decided_s": round(decided_s, 1),
        "wall_s": round(wall, 1),
        "cpu_s": {part: round(used.get(part, 0.0), 2) for part in HUB_PARTS},
        "cores_busy": round(total / wall, 2),
        "per_order_cpu_s": {"total": round(total / max(decided, 1), 6), "by_part": per_order},
        "actors_per_node": {("head" if placement["nodes"][n]["head"] else "worker"): c
                            for n, c in placement["actors_per_node"].items()},
        "load_average_after": load_average(),
        "run_s": round(time.monotonic() - began, 1),
    }


def _wait_decided(reader: Any, n: int, timeout_s: float, every: float = 0.5,
                  say: Any = None) -> bool:
    deadline, last_said = time.monotonic() + timeout_s, 0.0
    while time.monotonic() < deadline:
        got = ledger_counts(reader)["decided"]
        if got >= n:
            return True
        if say is not None and time.monotonic() - last_said > 10:
            say(got)
            last_said = time.monotonic()
        time.sleep(every)
    return False


def _wait_delivered(reader: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if reader.pending_count() == 0:
            return True
        time.sleep(0.5)
    return False


def _drop(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cluster", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=250.0, help="orders/s offered (250)")
    p.add_argument("--seconds", type=float, default=40.0, help="how long (40)")
    p.add_argument("--nodes", default="1,2", help="topologies to run (1,2)")
    p.add_argument("--drain-s", type=float, default=120.0,
                   help="wait this long past the load for the last orders (120)")
    p.add_argument("--pg-dsn", default=os.environ.get("ORDERHUB_PG_DSN",
                                                      "postgresql://postgres@127.0.0.1:5432/test"))
    p.add_argument("--quick", action="store_true", help="100 orders/s for 15 s")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if args.quick:
        args.rate, args.seconds = 100.0, 15.0
    import tempfile

    began = time.monotonic()
    runs = []
    with tempfile.TemporaryDirectory(prefix="orderhub-cluster-bench-") as tmp:
        for nodes in (int(n) for n in args.nodes.split(",")):
            row = run_topology(nodes, args.rate, args.seconds, args.pg_dsn, Path(tmp),
                               args.drain_s)
            runs.append(row)
            per = row["per_order_cpu_s"]
            _say(f"{nodes} node(s): {row['decided_orders']}/{row['offered_orders']} decided "
                 f"at {row['decided_per_s']}/s, {per['total'] * 1000:.2f} ms CPU/order "
                 "(" + ", ".join(f"{k} {v * 1000:.2f}" for k, v in per["by_part"].items()
                                 if v) + ")")
    result = {
        "benchmark": "cluster", "ledger": "postgresql", "pull_interval_s": 1.0,
        "offered_per_s": args.rate, "max_rate": None,
        "note": "every node on this one machine (2 cores shared): the two-node run shows "
                "what the topology costs, not how it scales; max_rate is not measured here "
                "(benchmarks/results/hub.json has the one-node ladder)",
        "runs": runs,
        "topology_cost": _cost(runs),
        "machine": {"cpus": psutil.cpu_count(), "memory_gb": round(
            psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "platform": platform.platform(), "ray": _ray_version()},
        "wall_s": round(time.monotonic() - began, 1),
        "command": "python -m benchmarks.cluster " + " ".join(argv if argv is not None
                                                              else sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    _say(f"wrote {args.out}")
    return 0 if all(r["all_decided"] for r in runs) else 1


def _cost(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    by = {r["nodes"]: r["per_order_cpu_s"]["total"] for r in runs}
    if 1 not in by or 2 not in by or not by[1]:
        return None
    return {"two_over_one_node_cpu_per_order": round(by[2] / by[1], 3)}


def _ray_version() -> str:
    import ray

    return ray.__version__


if __name__ == "__main__":
    sys.exit(main())
