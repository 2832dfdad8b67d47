"""``orderhub run``: start the hub and keep it running until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the hub (pullers, pools, router, relay, API)")
    p.add_argument("--config", type=Path, help="hub config file (TOML); env ORDERHUB_* wins")
    p.add_argument("--ray-address", help="join this Ray cluster instead of starting a local one")
    p.add_argument("--ledger", help="SQLite path or postgresql:// address (overrides config)")
    p.add_argument("--port", type=int, help="API and dashboard port (overrides config)")
    p.add_argument("--demo", action="store_true",
                   help="also start the emulators and point the hub at them")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hub.config import ConfigError, load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(args.config, ray_address=args.ray_address, ledger=args.ledger)
    except ConfigError as exc:
        print(f"orderhub run: {exc}", file=sys.stderr)
        return 2
    if args.port is not None:
        settings = settings.model_copy(update={"api": settings.api.model_copy(
            update={"port": args.port})})
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    suite = clock = start_at = None
    if args.demo:
        from sim.demo import demo_settings, start_demo_emulators

        suite, clock, start_at = start_demo_emulators()
        settings = demo_settings(settings, suite)
    from hub.runtime import Hub

    hub = Hub(settings, clock, start_at=start_at).start()
    print(f"orderhub: running; dashboard at {hub.api_url}/  (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        print("orderhub: stopping, draining in-flight batches ...", flush=True)
        hub.stop()
        if suite is not None:
            suite.stop()
    return 0
