"""A batch the ledger acknowledged survives ``kill -9`` of the writer; no batch is ever
half-written.

A child process (tests/ledger/kill9_writer.py) writes batches (ingest with the
cursor, then decisions with their outbox rows) and prints each batch id after the
call returned. The test kills it with SIGKILL at random moments, up to 24 times in
22 s: some during start-up and schema creation, most once the child has
acknowledged its first batch (so a loaded machine still proves something). After
each kill it reopens the file, runs SQLite's integrity check and checks every batch
in the file: acknowledged ones whole, none partial, the cursor at the last ingested
window.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.kill9_writer import CHANNEL, SHOP, batch_of, batch_size, window_end

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 24
MIN_ROUNDS = 8
BUDGET_S = 22.0


def kill_once(path: Path, first: int, rng: random.Random, early: bool,
              wait_for_commit: bool = False) -> tuple[set, set]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.ledger.kill9_writer", str(path),
                             str(first)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = ""
    if early:  # somewhere in interpreter start-up, opening, or schema creation
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
        if wait_for_commit:  # a loaded machine may otherwise kill before any batch lands
            while not line.startswith("committed "):
                line = proc.stdout.readline()
                assert line, proc.stderr.read() if proc.stderr else "writer exited"
                seen += line
        time.sleep(rng.uniform(0.005, 0.25))
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    out = seen + out
    assert proc.returncode == -signal.SIGKILL, f"writer died by itself:\n{err}"
    ingested = {int(x.split()[1]) for x in out.splitlines() if x.startswith("ingested ")}
    committed = {int(x.split()[1]) for x in out.splitlines() if x.startswith("committed ")}
    return ingested, committed


def check(path: Path, ingested: set, committed: set) -> int:
    """Assert the file is whole; return the last batch it holds (-1 when none)."""
    if not path.exists():
        assert not ingested
        return -1
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    ledger = SQLiteLedger(path)  # reopening also finishes a schema creation that was cut short
    try:
        conn = ledger.conn
        orders = Counter(batch_of(r[0]) for r in conn.execute(
            "SELECT order_id FROM orders WHERE shop = ?", (SHOP,)))
        received = Counter(batch_of(r[0]) for r in conn.execute(
            "SELECT o.order_id FROM events e JOIN orders o ON o.id = e.oid "
            "WHERE e.stage = 'received'"))
        decided = Counter(batch_of(r[0]) for r in conn.execute(
            "SELECT o.order_id FROM events e JOIN orders o ON o.id = e.oid "
            "WHERE e.body IS NOT NULL"))
        staged = Counter(batch_of(e.key[2]) for e in ledger.events_since()
                         if e.stage in ("validated", "scored", "routed", "held"))
        rows = Counter(batch_of(r[0]) for r in conn.execute(
            "SELECT o.order_id FROM outbox x JOIN orders o ON o.id = x.oid"))
        assert conn.execute("SELECT COUNT(*) FROM outbox WHERE oid IS NULL").fetchone() == (0,)
        for b in ingested:
            assert orders[b] == batch_size(b), f"acknowledged batch {b} lost orders"
        for b in committed:
            assert decided[b] == batch_size(b), f"acknowledged batch {b} lost decisions"
        for b, n in orders.items():  # whole or absent, never half
            assert n == received[b] == batch_size(b), f"batch {b} half ingested"
            assert decided[b] in (0, n) and staged[b] == 3 * decided[b], f"batch {b} half decided"
            assert rows[b] == decided[b], f"batch {b}: outbox rows not with their decisions"
        last = max(orders, default=-1)
        cursor = ledger.get_cursor(CHANNEL, SHOP)
        assert cursor == (window_end(last) if last >= 0 else None), "cursor not with its batch"
        return last
    finally:
        ledger.close()


def test_acknowledged_batches_survive_kill_9_and_none_is_half_written(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    rng = random.Random(int(os.environ.get("KILL9_SEED", "20261111")))
    began = time.monotonic()
    acked_ingest: set[int] = set()
    acked_commit: set[int] = set()
    rounds = 0
    last = -1
    # at least MIN_ROUNDS kills however slow the host is; the budget only bounds the extra ones
    while rounds < MIN_ROUNDS or (rounds < ROUNDS and time.monotonic() - began < BUDGET_S):
        ingested, committed = kill_once(path, last + 1, rng, early=rounds % 5 == 0,
                                        wait_for_commit=rounds % 3 != 2)
        acked_ingest |= ingested
        acked_commit |= committed
        last = check(path, acked_ingest, acked_commit)
        rounds += 1
    print(f"kill -9: {rounds} rounds in {time.monotonic() - began:.1f} s, "
          f"{len(acked_commit)} batches acknowledged, last batch in the file {last}")
    assert len(acked_commit) >= 5, "too few acknowledged batches to prove anything"
    assert last >= max(acked_commit)
