"""A Ray cluster of several nodes on this machine, started with Ray's own tooling
(``ray start --head`` and ``ray start --address=...``), for tests, the demo and the
cluster benchmark.

Every port is a free one picked here (Redis may hold 6379, Ray's default GCS port, and
other clusters may run beside this one), every process lives under its own temporary
directory, and ``stop()`` ends exactly the processes whose command line names that
directory: never ``ray stop``, which would end every Ray on the machine.

    with LocalCluster(workers=1) as cluster:
        print(cluster.address, cluster.dashboard_url)
        cluster.kill_worker(0)          # the node is lost: its raylet and workers SIGKILLed
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

# a lost node is declared dead after ~3 s instead of Ray's default ~30 s
FAST_FAILURE = {"health_check_period_ms": 1000, "health_check_timeout_ms": 1000,
                "health_check_failure_threshold": 3}
OBJECT_STORE_BYTES = 200 * 1024 * 1024
NODE_PORTS = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")


class ClusterError(RuntimeError):
    """The local cluster could not be started."""


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports free on 127.0.0.1 now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(closing(socket.socket())) for _ in range(n)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def ray_executable() -> str:
    here = Path(sys.executable).with_name("ray")
    return str(here) if here.exists() else (shutil.which("ray") or "ray")


@dataclass
class Node:
    ports: dict[str, int]
    head: bool
    resources: dict[str, float] = field(default_factory=dict)

    def raylet(self) -> psutil.Process | None:
        """This node's raylet, found by its node manager port."""
        mark = f"--node_manager_port={self.ports['node-manager-port']}"
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmdline = proc.info["cmdline"] or []
                if proc.info["name"] == "raylet" and mark in cmdline:
                    return proc
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return None


class LocalCluster:
    """A head node (GCS, dashboard, job server, client server) and ``workers`` worker
    nodes, each with its own raylet and ``cpus`` logical CPUs, on 127.0.0.1."""

    def __init__(self, workers: int = 1, *, cpus: int = 2, env: dict[str, str] | None = None,
                 system_config: dict[str, Any] | None = None, verbose: bool = False) -> None:
        self.cpus, self.verbose, self.n_workers = cpus, verbose, workers
        self.system_config = FAST_FAILURE if system_config is None else system_config
        # token authentication (Ray's default) with a token of this cluster's own: every
        # process given ``self.env`` (nodes, drivers, ``ray job submit``) carries it
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN": secrets.token_hex(32), **(env or {})}
        self.env.pop("RAY_ADDRESS", None)
        self._prepare()

    def _prepare(self) -> None:
        """A fresh directory and fresh ports (again after a start that failed)."""
        self.temp_dir = tempfile.mkdtemp(prefix="ohc-", dir="/tmp")  # short: unix sockets
        self.gcs_port, self.dashboard_port, self.client_port = free_ports(3)
        self.head = Node(self._node_ports(), head=True)
        self.workers = [Node(self._node_ports(), head=False, resources={"worker": 1.0})
                        for _ in range(self.n_workers)]

    @staticmethod
    def _node_ports() -> dict[str, int]:
        return dict(zip(NODE_PORTS, free_ports(len(NODE_PORTS)), strict=True))

    # -- addresses ---------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """The GCS address a driver passes to ``ray.init`` / ``--ray-address``."""
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def client_address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    @property
    def dashboard_url(self) -> str:
        """Where ``ray job submit --address`` and the state API go."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    # -- start and stop ----------------------------------------------------------------------
    def _ray_start(self, node: Node, extra: list[str]) -> None:
        args = [ray_executable(), "start", "--node-ip-address=127.0.0.1",
                f"--num-cpus={self.cpus}", f"--object-store-memory={OBJECT_STORE_BYTES}",
                f"--temp-dir={self.temp_dir}", "--disable-usage-stats",
                *(f"--{name}={port}" for name, port in node.ports.items()), *extra]
        if node.resources:
            args.append(f"--resources={json.dumps(node.resources)}")
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=180)
        if self.verbose:
            print(done.stdout, done.stderr, file=sys.stderr)
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(args[:3])} failed ({done.returncode}):\n"
                               f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def start(self, timeout_s: float = 120.0, tries: int = 3) -> LocalCluster:
        """Start the nodes; a node that did not come up within Ray's own 30 s (a busy
        machine) means the whole cluster is started again, up to ``tries`` times."""
        for attempt in range(1, tries + 1):
            try:
                return self._start(timeout_s)
            except ClusterError as exc:
                if attempt == tries:
                    raise
                print(f"sim.cluster: start {attempt} failed, again: {str(exc)[-300:]}",
                      file=sys.stderr, flush=True)
                self._prepare()
        raise AssertionError("unreachable")

    def _start(self, timeout_s: float) -> LocalCluster:
        try:
            self._ray_start(self.head, [
                "--head", f"--port={self.gcs_port}", "--include-dashboard=true",
                "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}",
                f"--ray-client-server-port={self.client_port}",
                f"--system-config={json.dumps(self.system_config)}"])
            for node in self.workers:
                self._ray_start(node, [f"--address={self.address}"])
            self.wait_for_nodes(1 + len(self.workers), timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def ray_cli(self, *args: str, timeout_s: float = 60.0, stderr: bool = False) -> str:
        """``ray ARGS`` against this cluster (its token in the environment); stdout, and
        stderr after it if ``stderr`` (where Ray's CLI prints what it says to a person)."""
        done = subprocess.run([ray_executable(), *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise ClusterError(f"ray {' '.join(args)}: {done.stderr[-1500:]}")
        return done.stdout + (done.stderr if stderr else "")

    def alive_nodes(self) -> list[dict[str, Any]]:
        """The nodes the GCS counts alive (``ray list nodes``)."""
        out = self.ray_cli("list", "nodes", f"--address={self.address}",
                           "--filter", "state=ALIVE", "--format=json")
        return json.loads(out)

    def wait_for_nodes(self, n: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                nodes = self.alive_nodes()
                if len(nodes) == n:
                    return nodes
            except Exception as exc:  # the dashboard may not answer yet
                last = exc
            time.sleep(1.0)
        raise ClusterError(f"{n} nodes not alive after {timeout_s:.0f}s ({last})")

    def kill_worker(self, index: int = 0) -> list[int]:
        """The worker node is lost as a machine is: its raylet and every process under it
        (the actors' workers, its agents) SIGKILLed at once. Returns the pids killed."""
        raylet = self.workers[index].raylet()
        if raylet is None:
            raise ClusterError(f"worker node {index} has no raylet running")
        procs = [raylet, *raylet.children(recursive=True)]
        for proc in procs:
            with suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(procs, timeout=10)
        return [p.pid for p in procs]

    def processes(self) -> list[psutil.Process]:
        """Every process of this cluster: those whose command line names its directory or
        joins its GCS (the Ray client server), and everything under them (Ray retitles
        its workers and agents ``ray::...``, which hides the directory)."""
        joined = f":{self.gcs_port}"
        found: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter(["cmdline"]):
            try:
                parts = proc.info["cmdline"] or []
                if any(self.temp_dir in part or (part.startswith("--address=")
                                                 and part.endswith(joined)) for part in parts):
                    found[proc.pid] = proc
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for proc in list(found.values()):
            with suppress(psutil.NoSuchProcess):
                for child in proc.children(recursive=True):
                    found.setdefault(child.pid, child)
        return list(found.values())

    def stop(self) -> None:
        procs = self.processes()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc in procs:
                with suppress(psutil.NoSuchProcess):
                    proc.send_signal(sig)
            _, procs = psutil.wait_procs(procs, timeout=5)
            if not procs:
                break
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
