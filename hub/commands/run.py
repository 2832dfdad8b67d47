"""``orderhub run``: start the hub and keep it running until SIGINT/SIGTERM, then drain.

Logs go to stderr, the actors' too (Ray forwards them, prefixed with the actor and its
pid, and not folded together): one line per batch and per pull, never one per order.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from hub.commands.signals import starting_ray, stop_on_signals


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the hub (pullers, pools, router, relay, API)")
    p.add_argument("--config", type=Path, help="hub config file (TOML); ORDERHUB_* "
                   "variables win over it, these flags over both")
    p.add_argument("--ray-address", help="join this Ray cluster (GCS host:port or ray://host:"
                   "port) instead of starting a local one; a Ray Job's RAY_ADDRESS also joins "
                   "its cluster; a cluster needs a PostgreSQL ledger")
    p.add_argument("--ledger", help="SQLite path or postgresql:// address (overrides config)")
    p.add_argument("--port", type=int, help="API and dashboard port (overrides config)")
    p.add_argument("--drain-s", type=float,
                   help="on SIGINT/SIGTERM, wait this long for in-flight batches "
                        "(overrides config drain_s, default 20)")
    p.add_argument("--demo", action="store_true",
                   help="also start the emulators and point the hub at them")
    p.set_defaults(func=run)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("httpx", "httpcore")  # one line per HTTP request is not a hub log


def configure_logging(level: str) -> None:
    """The hub's log format and ``level``, here and (through Ray's worker setup hook) in
    every actor."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_actor_logging() -> None:
    """Ray's setup hook in each worker process: the hub's log format and level."""
    configure_logging(os.environ.get("ORDERHUB_LOG_LEVEL", "INFO"))


def init_ray(address: str | None, log_level: str) -> None:
    """Ray for the hub (local unless ``address``), its actors logging to this process."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # read when ray is first imported
    import ray

    from hub.cluster import NAMESPACE

    # by name, not a closure: a Ray client (ray://) sends it with plain pickle
    env = {"worker_process_setup_hook": f"{__name__}.configure_actor_logging",
           "env_vars": {"ORDERHUB_LOG_LEVEL": log_level}}
    with starting_ray():  # a stop signal to the whole group stops the hub, not Ray
        if address:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=True, runtime_env=env)
        else:
            from hub.runtime import LOCAL_RAY_SYSTEM

            ray.init(include_dashboard=False, log_to_driver=True, runtime_env=env,
                     _system_config=LOCAL_RAY_SYSTEM)


def run(args: argparse.Namespace) -> int:
    from hub.cluster import check_cluster
    from hub.config import ConfigError, HubSettings

    try:
        settings = HubSettings.load(
            args.config, ray_address=args.ray_address, ledger=args.ledger,
            api={"port": args.port} if args.port is not None else None)
        address = check_cluster(settings)  # a SQLite ledger on a cluster is refused
    except ConfigError as exc:
        print(f"orderhub run: {exc}", file=sys.stderr)
        return 2
    if not args.demo:
        from hub.secrets import secret_problems

        problems = secret_problems(settings)
        if problems:
            for problem in problems:
                print(f"orderhub run: {problem}", file=sys.stderr)
            print("orderhub run: refusing to start with missing or demo secrets "
                  "(`orderhub config check` lists them; --demo runs against the emulators)",
                  file=sys.stderr)
            return 2
    configure_logging(settings.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    suite: Any = None
    clock, start_at = settings.clock.build(), settings.start_at
    if args.demo:
        from sim.demo import demo_settings, start_demo_emulators

        suite, clock, start_at = start_demo_emulators()
        settings = demo_settings(settings, suite)
    init_ray(address, settings.log_level)
    from hub.runtime import Hub

    hub = Hub(settings, clock, start_at=start_at).start()
    try:
        print(f"orderhub: running; dashboard at {hub.api_url}/  (Ctrl-C to stop)", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        print("orderhub: stopping, draining in-flight batches ...", flush=True)
        hub.stop(drain_s=args.drain_s if args.drain_s is not None else settings.drain_s)
        if suite is not None:
            suite.stop()
    print("orderhub: stopped", flush=True)
    return 0
