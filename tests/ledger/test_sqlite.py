"""The contract on the SQLite ledger, plus what only a file can do wrong."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from hub.ledger import LedgerError, LockedError, SchemaError, open_ledger
from hub.ledger.memory import MemoryLedger
from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.contract import LedgerContract, PersistentContract
from tests.ledger.contract_leases import LeaseContract
from tests.ledger.factory import batch, decisions, outbox


class TestSQLiteLedger(LedgerContract, LeaseContract, PersistentContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Path:
        return tmp_path / "var" / "ledger.sqlite3"

    def open(self, store, clock):
        return SQLiteLedger(store, clock=clock, busy_timeout_s=0.5)

    def raw_execute(self, store, sql):
        store.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(store) as conn:
            conn.execute(sql)
        conn.close()


def test_durability_settings_are_wal_and_synchronous_normal(tmp_path):
    ledger = SQLiteLedger(tmp_path / "l.sqlite3", busy_timeout_s=2.5)
    ledger.ingest(batch(1, 3))
    assert ledger.pragmas() == {"journal_mode": "wal", "synchronous": 1,  # 1 = NORMAL
                                "busy_timeout": 2500, "wal_autocheckpoint": 16000}
    assert (tmp_path / "l.sqlite3-wal").exists()
    ledger.close()
    full = open_ledger(f"sqlite:///{tmp_path}/l.sqlite3?synchronous=full")
    assert full.pragmas()["synchronous"] == 2  # FULL: fsync at every commit
    full.close()


def test_a_locked_file_gives_a_clear_error_after_the_busy_timeout_and_loses_nothing(tmp_path):
    path = tmp_path / "l.sqlite3"
    ledger = SQLiteLedger(path, busy_timeout_s=0.3)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    orders = batch(1, 10)
    began = time.monotonic()
    with pytest.raises(LockedError, match=r"locked by another writer: ingest gave up after "
                                          r"the 0.3 s busy timeout; nothing .* retry it"):
        ledger.ingest(orders)
    assert time.monotonic() - began >= 0.25
    other.execute("ROLLBACK")
    other.close()
    assert ledger.ingest(orders) == orders
    ledger.close()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"channel,shop,order_id\n" * 300)
    before = path.read_bytes()
    with pytest.raises(SchemaError, match=r"orders.csv is not a usable SQLite database"):
        SQLiteLedger(path)
    assert path.read_bytes() == before


def test_a_foreign_sqlite_file_is_left_byte_for_byte(tmp_path):
    path = tmp_path / "erp.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER)")
        conn.execute("INSERT INTO stock VALUES ('SKU-1', 5)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaError, match=r"erp.db is not an OrderHub ledger .*stock"):
        open_ledger(str(path))
    assert path.read_bytes() == before
    assert not (tmp_path / "erp.db-wal").exists()


def test_a_reader_leaves_checkpoints_to_the_writer_and_reads_what_it_wrote(tmp_path):
    path = tmp_path / "l.sqlite3"
    writer = open_ledger(path)
    readers = [open_ledger(path, reader=True), open_ledger(f"sqlite:///{path}", reader=True)]
    try:
        assert writer._checkpointer is not None and writer._checkpointer.is_alive()
        assert [r._checkpointer for r in readers] == [None, None]
        writer.ingest(batch(1, 5))
        assert [r.counts()["stages"] for r in readers] == [{"received": 5}] * 2
        assert isinstance(open_ledger("memory:", reader=True), MemoryLedger)
    finally:
        for ledger in (writer, *readers):
            ledger.close()


def test_open_ledger_addresses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for target, where in [("var/a.sqlite3", "var/a.sqlite3"),
                          (tmp_path / "b.sqlite3", str(tmp_path / "b.sqlite3")),
                          ("sqlite:///var/c.sqlite3", "var/c.sqlite3"),
                          (f"sqlite:///{tmp_path}/d.sqlite3", f"{tmp_path}/d.sqlite3")]:
        ledger = open_ledger(target)
        assert isinstance(ledger, SQLiteLedger) and ledger.path == where
        ledger.close()
        assert Path(where).exists()
    assert isinstance(open_ledger("memory:"), MemoryLedger)
    with pytest.raises(LedgerError, match="unknown option 'cache'"):
        open_ledger("sqlite:///var/e.sqlite3?cache=shared")
    with pytest.raises(LedgerError, match=r"mysql://\.\.\. is not supported"):
        open_ledger("mysql://root@localhost/orders")
    with pytest.raises(LedgerError, match="synchronous='off'"):
        open_ledger("sqlite:///var/f.sqlite3?synchronous=off")


def test_two_writers_on_one_file_never_store_two_decisions_for_one_version(tmp_path):
    path = tmp_path / "l.sqlite3"
    setup = SQLiteLedger(path)
    orders = batch(1, 400)
    setup.ingest(orders)
    made = decisions(orders)
    rows = outbox(orders, made)
    stored: list[int] = []

    def writer(reverse: bool) -> None:
        ledger = SQLiteLedger(path, busy_timeout_s=10)
        chunks = [slice(i, i + 50) for i in range(0, 400, 50)]
        for part in reversed(chunks) if reverse else chunks:
            stored.append(ledger.commit_decisions(made[part], rows[part]))
        ledger.close()

    threads = [threading.Thread(target=writer, args=(r,)) for r in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(stored) == 400
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT oid) FROM events "
                            "WHERE body IS NOT NULL").fetchone() == (400, 400)
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 400
    conn.close()
    assert len(setup.events_since()) == 400 * 4
    setup.close()
