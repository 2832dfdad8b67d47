"""``orderhub backup``: an online backup of the hub's SQLite ledger (hub.ledger.backup)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.commands.config import ledger_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="back up the SQLite ledger while the hub runs")
    p.add_argument("out", type=Path, help="the backup file to write")
    p.add_argument("--config", type=Path, help="hub config file (TOML): its ledger")
    p.add_argument("--ledger", help="the SQLite ledger's path (overrides config)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=backup)


def backup(args: argparse.Namespace) -> int:
    from hub.ledger.backup import backup_sqlite
    from hub.ledger.base import LedgerError
    from hub.secrets import mask_url

    settings = ledger_settings(args, "backup")
    if settings is None:
        return 2
    ledger = settings.ledger
    if ledger.startswith(("postgresql://", "postgres://")):
        print(f"orderhub backup: {mask_url(ledger)} is a PostgreSQL ledger: back it up with "
              "pg_dump (or base backups with WAL archiving); docs/operations.md says how",
              file=sys.stderr)
        return 2
    print(f"orderhub backup: copying {ledger} to {args.out} ...", file=sys.stderr, flush=True)
    try:
        done = backup_sqlite(ledger, args.out, overwrite=args.force)
    except LedgerError as exc:
        print(f"orderhub backup: {exc}", file=sys.stderr)
        return 1
    print(f"orderhub backup: {done.dest} written: {done.size_bytes / 1e6:.1f} MB, ledger "
          f"schema v{done.schema_version}, {done.orders} orders, {done.seconds:.1f}s")
    return 0
