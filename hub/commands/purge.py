"""``orderhub purge``: delete finished orders older than a cutoff (hub.ledger.retention)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.commands.config import ledger_settings

MIN_DAYS = 30  # a purged order that comes back is new to the hub (docs/operations.md)


def _days(text: str) -> float:
    days = float(text)
    if days < MIN_DAYS:
        raise argparse.ArgumentTypeError(
            f"at least {MIN_DAYS} days: a purged order that a marketplace sends again is new "
            "to the hub and, if paid, dispatched again")
    return days


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="delete finished orders older than a cutoff")
    p.add_argument("--older-than-days", type=_days, required=True, metavar="DAYS",
                   help=f"orders shipped, cancelled or intercepted more than DAYS ago "
                        f"(at least {MIN_DAYS})")
    p.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    p.add_argument("--config", type=Path, help="hub config file (TOML): its ledger")
    p.add_argument("--ledger", help="SQLite path or postgresql:// address (overrides config)")
    p.add_argument("--batch", type=int, default=1000, help="orders per transaction")
    p.set_defaults(func=purge)


def purge(args: argparse.Namespace) -> int:
    from hub.ledger import LedgerError, open_ledger
    from hub.ledger.retention import purge_finished
    from hub.secrets import mask_url

    settings = ledger_settings(args, "purge")
    if settings is None:
        return 2
    before = datetime.now(UTC) - timedelta(days=args.older_than_days)
    what = "counting" if args.dry_run else "deleting"
    print(f"orderhub purge: {what} what finished before {before:%Y-%m-%d %H:%M} UTC in "
          f"{mask_url(settings.ledger)} ...", file=sys.stderr, flush=True)
    try:
        ledger = open_ledger(settings.ledger, reader=True)
    except LedgerError as exc:
        print(f"orderhub purge: {exc}", file=sys.stderr)
        return 1
    try:
        if getattr(ledger, "dialect", None) not in ("sqlite", "postgres"):
            print("orderhub purge: only a SQLite or PostgreSQL ledger can be purged",
                  file=sys.stderr)
            return 2
        report = purge_finished(
            ledger, before, batch=args.batch, dry_run=args.dry_run,
            progress=lambda r: print(f"  {r.deleted['orders']} orders deleted so far",
                                     file=sys.stderr, flush=True))
    except LedgerError as exc:
        print(f"orderhub purge: {exc}", file=sys.stderr)
        return 1
    finally:
        ledger.close()
    verb = "would delete" if args.dry_run else "deleted"
    print(f"orderhub purge: {verb} " + ", ".join(f"{n} {table.replace('_', ' ')} rows"
                                                 for table, n in report.deleted.items()))
    return 0
