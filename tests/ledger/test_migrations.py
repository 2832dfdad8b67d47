"""A ledger written by an older OrderHub opens, migrates forward and keeps every order,
decision, event and outbox row (tests/ledger/data/ledger_v1.sql, a version-1 file).

The PostgreSQL half copies the same version-1 rows into a fresh schema created with
the version-1 tables; it needs ``ORDERHUB_PG_DSN`` like tests/ledger/test_postgres.py.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from hub.clock import ManualClock
from hub.ledger import Ledger, schema
from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.factory import T0, batch, decision, decisions, order, outbox

V1_DUMP = Path(__file__).parent / "data" / "ledger_v1.sql"
DSN = os.environ.get("ORDERHUB_PG_DSN", "")
V1_TABLES = ("ledger_meta", "ledger_migrations", "orders", "order_bodies", "events",
             "decisions", "outbox", "cursors", "quarantine", "rulesets")


def v1_file(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text())
    conn.close()
    return path


def expected():
    """What the version-1 file was written with (see the dump's header)."""
    orders = batch(1, 6)
    made = decisions(orders[:3]) + decisions(orders[3:5], hold_reason="incomplete_address")
    return orders, made


def check_migrated(ledger: Ledger) -> None:
    orders, made = expected()
    assert ledger.schema_version() == schema.LATEST >= 2
    for o, d in zip(orders, made, strict=False):
        view = ledger.get_order(o.key)
        assert view is not None and view.decision == d
    shipped = ledger.get_order(orders[0].key)
    assert [e.stage for e in shipped.timeline] == ["received", "validated", "scored", "routed",
                                                   "shipped"]
    assert shipped.tracking_no == "SF123"
    held = ledger.get_order(orders[3].key)
    assert held.stage == "held" and held.timeline[3].detail == {"reason": "incomplete_address"}
    assert ledger.get_order(orders[5].key).decision is None
    assert ledger.get_order(orders[1].key).order == order(2, version=60)
    assert ledger.counts()["stages"] == {"shipped": 1, "routed": 1, "held": 2, "received": 2}
    assert ledger.pending_count() == 5
    assert ledger.get_cursor("tmall", "flagship") == T0 + timedelta(minutes=5)
    # decisions made before the migration still count: the same ones again store nothing
    assert ledger.commit_decisions(made, outbox(orders[:5], made)) == 0
    newer = decision(order(2, version=60))
    assert ledger.commit_decisions([newer], []) == 1
    assert ledger.commit_decisions([newer], []) == 0
    assert ledger.get_order(orders[1].key).decision == newer
    assert len(ledger.events_since()) == 6 + 5 * 3 + 1 + 1 + 3


def test_a_version_1_sqlite_file_migrates_and_keeps_everything(tmp_path):
    path = v1_file(tmp_path / "old.sqlite3")
    clock = ManualClock(T0 + timedelta(hours=2))
    ledger = SQLiteLedger(path, clock=clock)
    try:
        check_migrated(ledger)
        tables = {r[0] for r in ledger.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "decisions" not in tables
        assert ledger.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        ledger.close()
    again = SQLiteLedger(path, clock=clock)  # nothing left to migrate
    assert again.schema_version() == schema.LATEST
    again.close()


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="ORDERHUB_PG_DSN is not set")
def test_a_version_1_postgres_schema_migrates_and_keeps_everything(tmp_path):
    import psycopg
    from psycopg import sql

    from hub.ledger.postgres import PostgresLedger

    source = sqlite3.connect(v1_file(tmp_path / "old.sqlite3"))
    name = f"orderhub_test_migrate_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(name)))
            with conn.transaction():
                for statement in schema.MIGRATIONS[0].statements("postgres"):
                    if not statement.startswith("INSERT INTO ledger_meta"):
                        conn.execute(statement)
                for table in V1_TABLES:
                    cur = source.execute(f"SELECT * FROM {table}")
                    names = [c[0] for c in cur.description]
                    rows = cur.fetchall()
                    if rows:
                        conn.cursor().executemany(
                            f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                            f"({', '.join(['%s'] * len(names))})", rows)
                    if "id" in names:
                        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT MAX(id) FROM {table}))")
        ledger = PostgresLedger(DSN, schema=name, clock=ManualClock(T0 + timedelta(hours=2)))
        try:
            check_migrated(ledger)
        finally:
            ledger.close()
    finally:
        source.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(name)))
