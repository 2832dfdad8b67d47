"""Deleting what the ledger no longer needs: orders in a final stage (shipped,
cancelled, intercepted) whose stage is older than a cutoff and that have nothing left
to deliver, with their events, bodies and outbox rows; delivered outbox rows of no
order and quarantined records older than the cutoff.

Held, undecided, in-warehouse and dead-lettered orders stay, and so do
``intercept_too_late`` and ``shipped_after_cancel`` (customer service's to act on).
It works in batches of ``batch`` orders, one short transaction each, beside a running
hub: on SQLite each batch holds the write lock only for its own deletes; on
PostgreSQL it locks the orders it deletes and skips any a writer holds (``SKIP
LOCKED``), so it never waits on the hub nor deadlocks with it. A purged order that
comes back from a marketplace is new to the hub: docs/operations.md says how to choose
the cutoff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FINISHED = ("shipped", "cancelled", "intercepted")


@dataclass
class PurgeReport:
    before: datetime
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("orders", "events", "order_bodies", "outbox", "quarantine"), 0))


def _sql(dialect: str, text: str) -> str:
    return text.replace("?", "%s") if dialect == "postgres" else text


DONE = """FROM orders o WHERE o.stage IN ('shipped', 'cancelled', 'intercepted')
  AND o.stage_at < ? AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.oid = o.id
  AND b.delivered_at IS NULL AND b.dead_at IS NULL)"""


def purge_finished(ledger: Any, before: datetime, *, batch: int = 1000, dry_run: bool = False,
                   progress: Callable[[PurgeReport], None] | None = None) -> PurgeReport:
    """Delete (or with ``dry_run`` count) what is finished and older than ``before`` from
    an open SQL ledger (``hub.ledger.open_ledger``)."""
    dialect, cutoff = ledger.dialect, before.timestamp()
    report = PurgeReport(before, dry_run)
    if dry_run:
        with _transaction(ledger) as conn:
            report.deleted = {
                "orders": _one(conn, _sql(dialect, f"SELECT COUNT(*) {DONE}"), (cutoff,)),
                "outbox": _one(conn, _sql(dialect, "SELECT COUNT(*) FROM outbox WHERE oid IS "
                                          "NULL AND delivered_at < ?"), (cutoff,)),
                "quarantine": _one(conn, _sql(dialect, "SELECT COUNT(*) FROM quarantine "
                                              "WHERE at < ?"), (cutoff,))}
        return report
    lock = " FOR UPDATE OF o SKIP LOCKED" if dialect == "postgres" else ""
    pick = _sql(dialect, f"SELECT o.id {DONE} ORDER BY o.id LIMIT {int(batch)}{lock}")
    while True:
        with _transaction(ledger) as c:
            ids = [row[0] for row in c.execute(pick, (cutoff,)).fetchall()]
            if ids:
                _delete_orders(c, dialect, ids, report)
        if progress is not None and ids:
            progress(report)
        if len(ids) < batch:
            break
    with _transaction(ledger) as c:
        report.deleted["outbox"] += c.execute(_sql(
            dialect, "DELETE FROM outbox WHERE oid IS NULL AND delivered_at < ?"),
            (cutoff,)).rowcount
        report.deleted["quarantine"] = c.execute(_sql(
            dialect, "DELETE FROM quarantine WHERE at < ?"), (cutoff,)).rowcount
    return report


def _delete_orders(c: Any, dialect: str, ids: Sequence[int], report: PurgeReport) -> None:
    marks = ", ".join("?" * len(ids))
    for table, column in (("events", "oid"), ("outbox", "oid"), ("order_bodies", "id"),
                          ("orders", "id")):
        done = c.execute(_sql(dialect, f"DELETE FROM {table} WHERE {column} IN ({marks})"), ids)
        report.deleted[table] += done.rowcount


def _one(conn: Any, sql: str, params: Sequence[Any]) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


@contextmanager
def _transaction(ledger: Any) -> Iterator[Any]:
    """One transaction on the ledger's own connection (SQLite: the write lock at once);
    a database error comes out as the ledger's own (LedgerError, LockedError)."""
    conn = ledger.conn
    with ledger._errors("purge"):
        if ledger.dialect == "postgres":
            with conn.transaction():
                yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
