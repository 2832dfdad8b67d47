"""``orderhub backup``: SQLite's online backup of a ledger being written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hub.ledger import LedgerError, SchemaError, open_ledger
from hub.ledger.backup import backup_sqlite
from hub.ledger.schema import LATEST
from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.factory import batch

REPO = Path(__file__).parents[2]


def _orders(path: Path) -> int:
    with sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]


def test_backup_while_the_writer_ingests_is_one_whole_snapshot(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "hub.sqlite3")
    ledger.ingest(batch(0, 500))
    stop, written = threading.Event(), [500]

    def write() -> None:  # batches of 50 in their own transactions, until told to stop
        n = 500
        while not stop.is_set() and n < 20_000:
            ledger.ingest(batch(n, 50))
            n += 50
            written.append(n)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written[-1] < 1500:  # the writer is well under way
            threading.Event().wait(0.01)
        reports = [backup_sqlite(tmp_path / "hub.sqlite3", tmp_path / f"b{i}.sqlite3")
                   for i in range(3)]
    finally:
        stop.set()
        writer.join()
    ledger.close()
    for report in reports:
        # a whole number of the writer's transactions: never half a batch
        assert report.orders % 50 == 0 and report.orders >= 1500, report
        assert report.orders == _orders(report.dest)
        assert report.schema_version == LATEST
        copy = open_ledger(report.dest)  # opens as any ledger does
        assert copy.pragmas()["journal_mode"] == "wal"  # the ledger's own setting again
        copy.close()
    assert [r.orders for r in reports] == sorted(r.orders for r in reports)
    assert reports[-1].orders < written[-1] or written[-1] == 20_000


def test_the_backup_is_one_self_contained_file(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "hub.sqlite3")
    ledger.ingest(batch(0, 20))  # still in the -wal file: the ledger is open
    report = backup_sqlite(tmp_path / "hub.sqlite3", tmp_path / "out" / "backup.sqlite3")
    ledger.close()
    assert report.orders == 20
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["backup.sqlite3"]
    with sqlite3.connect(report.dest) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_refusals(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "hub.sqlite3")
    ledger.ingest(batch(0, 5))
    ledger.close()
    out = tmp_path / "backup.sqlite3"
    backup_sqlite(tmp_path / "hub.sqlite3", out)
    with pytest.raises(LedgerError, match="exists"):
        backup_sqlite(tmp_path / "hub.sqlite3", out)
    assert backup_sqlite(tmp_path / "hub.sqlite3", out, overwrite=True).orders == 5
    with pytest.raises(LedgerError, match="no such ledger"):
        backup_sqlite(tmp_path / "missing.sqlite3", tmp_path / "x.sqlite3")
    with pytest.raises(LedgerError, match="the ledger itself"):
        backup_sqlite(tmp_path / "hub.sqlite3", tmp_path / "hub.sqlite3", overwrite=True)
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(SchemaError, match="not an OrderHub ledger"):
        backup_sqlite(foreign, tmp_path / "y.sqlite3")
    assert not (tmp_path / "y.sqlite3").exists()
    assert not list(tmp_path.glob("*.partial"))


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", "backup", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_command(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "hub.sqlite3")
    ledger.ingest(batch(0, 7))
    done = _cli("--ledger", str(tmp_path / "hub.sqlite3"), str(tmp_path / "b.sqlite3"))
    ledger.close()
    assert done.returncode == 0, done.stderr
    assert f"schema v{LATEST}, 7 orders" in done.stdout
    again = _cli("--ledger", str(tmp_path / "hub.sqlite3"), str(tmp_path / "b.sqlite3"))
    assert again.returncode == 1 and "--force" in again.stderr
    postgres = _cli("--ledger", "postgresql://hub:s3cret@db:5432/orders", "x")
    assert postgres.returncode == 2 and "pg_dump" in postgres.stderr
    assert "s3cret" not in postgres.stderr
