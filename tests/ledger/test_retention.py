"""``orderhub purge``: finished orders older than the cutoff go, with their events,
bodies and outbox rows; everything else stays. On SQLite, and on PostgreSQL when
``ORDERHUB_PG_DSN`` is set (a schema of its own, dropped after)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from hub.app.records import StageEvent
from hub.clock import ManualClock
from hub.ledger import open_ledger
from hub.ledger.retention import purge_finished
from tests.ledger.factory import T0, batch, decisions, outbox

DSN = os.environ.get("ORDERHUB_PG_DSN", "")
REPO = Path(__file__).parents[2]
CUTOFF = T0 + timedelta(days=50)


def _fill(ledger, clock: ManualClock) -> dict[str, list]:
    """Orders in every situation: {situation: [keys]}."""
    orders = batch(0, 13)
    ledger.ingest(orders)
    ledger.commit_decisions(decisions(orders), outbox(orders, decisions(orders)))
    groups = {"shipped_old": orders[0:4], "cancelled_old": orders[4:6],
              "owed_old": orders[6:8], "routed_old": orders[8:10], "shipped_new": orders[10:13]}
    owed = {o.key for o in groups["owed_old"]}
    claimed = ledger.claim(100, 30, clock.now())
    ledger.delivered([m.id for m in claimed if m.order_ref() not in owed], clock.now())
    ledger.record_stage([StageEvent(o.key, "shipped", clock.now()) for o in
                         groups["shipped_old"] + groups["owed_old"]])
    ledger.record_stage([StageEvent(o.key, "cancelled", clock.now())
                         for o in groups["cancelled_old"]])
    clock.advance(timedelta(days=100).total_seconds())
    ledger.record_stage([StageEvent(o.key, "shipped", clock.now()) for o in groups["shipped_new"]])
    return {name: [o.key for o in group] for name, group in groups.items()}


def _check(ledger, keys: dict[str, list]) -> None:
    total = sum(len(v) for v in keys.values())
    dry = purge_finished(ledger, CUTOFF, dry_run=True)
    assert dry.deleted["orders"] == 6, dry
    assert len(ledger.find_orders(limit=100)) == total  # a dry run deletes nothing
    report = purge_finished(ledger, CUTOFF, batch=4)  # two batches, and an empty one
    assert report.deleted["orders"] == 6, report
    assert report.deleted["order_bodies"] == 6
    assert report.deleted["events"] >= 12 and report.deleted["outbox"] == 6
    for name in ("shipped_old", "cancelled_old"):
        assert all(ledger.get_order(k) is None for k in keys[name]), name
    for name in ("owed_old", "routed_old", "shipped_new"):
        for key in keys[name]:
            view = ledger.get_order(key)
            assert view is not None and view.timeline, (name, key)
    assert ledger.pending_count() == 2  # the owed rows are still to be sent
    again = purge_finished(ledger, CUTOFF)
    assert again.deleted["orders"] == 0


def test_purge_on_sqlite(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    ledger = open_ledger(tmp_path / "hub.sqlite3", clock=clock)
    keys = _fill(ledger, clock)
    _check(ledger, keys)
    ledger.close()
    with sqlite3.connect(tmp_path / "hub.sqlite3") as conn:
        orphans = conn.execute("SELECT (SELECT COUNT(*) FROM events WHERE oid NOT IN "
                               "(SELECT id FROM orders)) + (SELECT COUNT(*) FROM order_bodies "
                               "WHERE id NOT IN (SELECT id FROM orders))").fetchone()[0]
    assert orphans == 0


@pytest.mark.postgres
@pytest.mark.skipif(not DSN, reason="ORDERHUB_PG_DSN is not set: the PostgreSQL half needs a "
                    "server (.ci/run points it at one)")
def test_purge_on_postgres() -> None:
    import psycopg
    from psycopg import sql

    from hub.ledger.postgres import PostgresLedger

    schema = f"orderhub_test_purge_{uuid.uuid4().hex[:8]}"
    clock = ManualClock(T0)
    ledger = PostgresLedger(DSN, clock=clock, schema=schema)
    try:
        _check(ledger, _fill(ledger, clock))
    finally:
        ledger.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", "purge", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_command(tmp_path: Path) -> None:
    clock = ManualClock(T0 - timedelta(days=300))  # every finished order is old
    ledger = open_ledger(tmp_path / "hub.sqlite3", clock=clock)
    _fill(ledger, clock)
    ledger.close()
    path = str(tmp_path / "hub.sqlite3")
    dry = _cli("--ledger", path, "--older-than-days", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("orderhub purge: would delete 9 orders rows"), dry.stdout
    done = _cli("--ledger", path, "--older-than-days", "30")
    assert done.returncode == 0 and "deleted 9 orders rows" in done.stdout, done.stdout
    short = _cli("--ledger", path, "--older-than-days", "7")
    assert short.returncode == 2 and "at least 30 days" in short.stderr
