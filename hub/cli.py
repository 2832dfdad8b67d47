"""The ``orderhub`` command. Each sub-command lives in ``hub/commands/<name>.py``
and exposes ``register(subparsers)``; its handler is set with ``set_defaults(func=...)``
and returns the exit code."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["parse", "rules", "route", "emulate", "run", "status", "rehearse", "config",
            "capacity", "backup", "purge"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orderhub", description="OrderHub: an order hub for e-commerce surges."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"hub.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hub.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
