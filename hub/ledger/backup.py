"""An online backup of a SQLite ledger, taken while the hub writes to it.

SQLite's backup API (``sqlite3.Connection.backup``) copies the database page by page
from one read transaction: the copy is the ledger as of one instant, whole, and the
ledger's writer goes on meanwhile (in WAL mode a reader never blocks the writer). A
file copy of a live ledger is not a backup: the main file and its ``-wal`` are caught
at different moments, and the copy may hold half a transaction or none of the last
ones. The backup is written beside its destination and renamed into place once
SQLite's ``quick_check`` passed, so a destination file is always a whole backup; it is
one self-contained file (rollback journal, not WAL), opened as any ledger is.

A PostgreSQL ledger is backed up with PostgreSQL's own tools (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from hub.ledger.base import LedgerError, SchemaError
from hub.ledger.schema import APPLICATION


@dataclass(frozen=True)
class BackupReport:
    source: Path
    dest: Path
    size_bytes: int
    schema_version: int
    orders: int
    seconds: float


def backup_sqlite(source: Path | str, dest: Path | str, *, overwrite: bool = False) -> BackupReport:
    """Copy the SQLite ledger at ``source`` to ``dest`` online. LedgerError when the
    source is missing, ``dest`` exists (unless ``overwrite``) or the copy fails its
    check; SchemaError when the source is no OrderHub ledger."""
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise LedgerError(f"{source}: no such ledger file")
    if dest.exists() and not overwrite:
        raise LedgerError(f"{dest} exists; choose another name or pass --force to replace it")
    if dest.resolve() == source.resolve():
        raise LedgerError(f"{dest} is the ledger itself")
    began = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise LedgerError(f"{source}: cannot open ({exc})") from None
    try:
        _check_ledger(src, source)
        out = sqlite3.connect(partial)
        try:
            src.backup(out)  # all pages in one step: one snapshot, however busy the writer
            out.execute("PRAGMA journal_mode = DELETE")
            verdict = out.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise LedgerError(f"the backup of {source} failed its check: {verdict}")
            version = out.execute("SELECT COALESCE(MAX(version), 0) FROM ledger_migrations"
                                  ).fetchone()[0]
            orders = out.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        finally:
            out.close()
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise LedgerError(f"backing up {source} failed: {exc}") from None
    finally:
        src.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(source, dest, dest.stat().st_size, version, orders,
                        time.monotonic() - began)


def _check_ledger(conn: sqlite3.Connection, where: Path) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "ledger_meta" not in tables or "ledger_migrations" not in tables:
        raise SchemaError(f"{where} is not an OrderHub ledger (no ledger_meta); not backed up")
    row = conn.execute("SELECT value FROM ledger_meta WHERE key = 'application'").fetchone()
    if not row or row[0] != APPLICATION:
        raise SchemaError(f"{where}: ledger_meta names application {row and row[0]!r}, not "
                          f"{APPLICATION!r}; not backed up")
