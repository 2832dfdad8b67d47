"""The demo hub on a two-node Ray cluster on this machine, with the PostgreSQL ledger.

    .venv/bin/python examples/cluster/demo.py                      # until Ctrl-C
    .venv/bin/python examples/cluster/demo.py --seconds 120 --lose-worker-after 60

Starts a head node and a worker node with ``ray start`` (free ports, a temporary
directory and an auth token of their own), then ``orderhub run --demo --ray-address HEAD
--ledger postgresql://...`` (the emulators replaying Double 11's opening hour, the
actors spread over both nodes), prints ``orderhub status --ray-address`` (which actor
runs on which node), optionally loses the worker node (its raylet and everything under
it killed) and prints the status again once the actors are back on the head. Ctrl-C,
or ``--seconds``, stops the hub (drained), then both nodes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sim.cluster import LocalCluster  # noqa: E402
from sim.cluster_hub import HubProcess, orderhub_executable  # noqa: E402


def show_status(cluster: LocalCluster, ledger: str) -> None:
    subprocess.run([*orderhub_executable(), "status", "--ledger", ledger, "--ray-address",
                    cluster.address], env=cluster.env, check=False, timeout=120)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg-dsn", default=os.environ.get(
        "ORDERHUB_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"))
    p.add_argument("--schema", default="orderhub_cluster_demo",
                   help="PostgreSQL schema of the demo's ledger (orderhub_cluster_demo)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    p.add_argument("--lose-worker-after", type=float, default=0,
                   help="kill the worker node this many seconds after the hub started")
    args = p.parse_args()
    ledger = f"{args.pg_dsn}?schema={args.schema}"
    print("starting a head node and a worker node (ray start) ...", flush=True)
    with LocalCluster(workers=1, env={"PYTHONPATH": str(REPO)}) as cluster:
        print(f"cluster: {cluster.address}  dashboard: {cluster.dashboard_url}", flush=True)
        (REPO / "var").mkdir(exist_ok=True)
        hub = HubProcess(["--demo", "--ray-address", cluster.address, "--ledger", ledger,
                          "--port", "0"], cluster.env, REPO / "var" / "cluster-demo.log",
                         cwd=REPO)
        print("starting the hub on it (log: var/cluster-demo.log) ...", flush=True)
        hub.start()
        print(f"hub running; dashboard at {hub.dashboard}/", flush=True)
        show_status(cluster, ledger)
        began = time.monotonic()
        lost = False
        try:
            while not args.seconds or time.monotonic() - began < args.seconds:
                if args.lose_worker_after and not lost and \
                        time.monotonic() - began >= args.lose_worker_after:
                    print("losing the worker node (raylet and its workers SIGKILLed) ...",
                          flush=True)
                    cluster.kill_worker(0)
                    lost = True
                    time.sleep(20)  # the node declared dead, the actors restarted
                    show_status(cluster, ledger)
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        print("stopping the hub (drain) ...", flush=True)
        code = hub.stop()
        show_status(cluster, ledger)
        print(f"hub exited {code}; stopping the cluster", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
