"""``orderhub emulate``: serve the emulated marketplaces and back offices on loopback
until Ctrl-C (or SIGTERM). Prints one JSON line first: every emulator's address and the
business clock, so a hub started next can share it::

    {"urls": {"wms": "http://127.0.0.1:41873", ...},
     "clock": {"origin": "...", "speedup": 60.0, "wall_origin": 1790000000.0}}
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulate", help="serve the marketplace and back-office emulators")
    p.add_argument("--config", type=Path, help="emulator config (TOML, see "
                   "examples/emulators.toml); defaults for everything if none")
    p.add_argument("--trace", type=Path, help="trace file the marketplaces replay "
                   "(overrides the config's)")
    p.add_argument("--speedup", type=float, help="business seconds per wall second")
    p.add_argument("--hub-url", help="hub address for WMS callbacks and pushes")
    p.add_argument("--only", help="comma-separated emulators to start, e.g. wms,dingtalk")
    p.set_defaults(func=emulate)


def emulate(args: argparse.Namespace) -> int:
    from hub.config import ConfigError
    from sim.emulators.suite import EmulatorSuite, SuiteConfig, load_suite_config

    try:
        config = load_suite_config(args.config) if args.config else SuiteConfig()
        changes = {"trace": args.trace, "speedup": args.speedup, "hub_url": args.hub_url,
                   "only": [n.strip() for n in args.only.split(",") if n.strip()]
                   if args.only else None}
        given = {k: v for k, v in changes.items() if v is not None}
        if given:
            config = SuiteConfig.model_validate(config.model_dump() | given)
    except ConfigError as exc:
        print(f"orderhub emulate: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic's ValidationError for a bad flag
        print(f"orderhub emulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with EmulatorSuite(config) as suite:
            clock = suite.clock.as_dict() if hasattr(suite.clock, "as_dict") else {}
            print(json.dumps({"urls": suite.urls, "clock": clock}), flush=True)
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError) as exc:
        print(f"orderhub emulate: {exc}", file=sys.stderr)
        return 1
    return 0
