"""``orderhub config check``: the effective settings, every secret redacted, and every
problem that would stop ``orderhub run`` (exit 1 on any)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.config import HubSettings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check a hub config (secrets redacted)")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    check = verbs.add_parser("check", help="print the effective settings and their problems")
    check.add_argument("--config", type=Path, help="hub config file (TOML); ORDERHUB_* "
                       "variables and the secrets directory are applied as `run` does")
    check.add_argument("--demo", action="store_true",
                       help="judge it as `orderhub run --demo` would (demo secrets allowed)")
    check.add_argument("--json", action="store_true", help="the settings as one JSON object")
    check.set_defaults(func=config_check)


def ledger_settings(args: argparse.Namespace, command: str) -> HubSettings | None:
    """The settings of ``--config`` with ``--ledger`` over them, for a command that works on
    the ledger; None, the problem printed as ``orderhub COMMAND: ...``, where they are
    wrong (the command then exits 2)."""
    from hub.config import ConfigError, HubSettings

    try:
        return HubSettings.load(args.config, ledger=args.ledger)
    except ConfigError as exc:
        print(f"orderhub {command}: {exc}", file=sys.stderr)
        return None


def config_check(args: argparse.Namespace) -> int:
    from hub.config import ConfigError, HubSettings
    from hub.secrets import redacted, secret_problems

    try:
        settings = HubSettings.load(args.config)
    except ConfigError as exc:
        print(f"orderhub config check: {exc}", file=sys.stderr)
        return 1
    data = redacted(settings)
    print(json.dumps(data, ensure_ascii=False, indent=None if args.json else 2,
                     sort_keys=True, default=str))
    problems = [] if args.demo else secret_problems(settings)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        print(f"orderhub config check: {len(problems)} problem(s); `orderhub run` would refuse "
              "to start", file=sys.stderr)
        return 1
    print("orderhub config check: ok", file=sys.stderr)
    return 0
