"""Fixing an address is one ledger transaction: killing the writer during it leaves
every order either wholly as it was or wholly fixed.

A child process (tests/ledger/kill9_operator_writer.py) runs the operator use case
``hub.app.operator.fix_address`` over held orders of a real SQLite ledger and prints each
order after its fix returned. The test kills it with SIGKILL at random moments, several
times, and after each kill checks every order: either the old version, its one decision,
its one outbox row and no operator event; or the new version with its ``received`` event,
its decision, the outbox rows that decision owes and the operator's event. Every
acknowledged fix is there.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from hub.app.operator import with_address
from hub.app.records import micros
from hub.domain.lifecycle import decision_stage
from hub.domain.outbox import outbox_for
from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.factory import decisions, outbox
from tests.ledger.kill9_operator_writer import FIX, ORDERS, held_order

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 10
MIN_ROUNDS = 5
BUDGET_S = 20.0


def seed(path: Path) -> None:
    ledger = SQLiteLedger(path)
    orders = [held_order(n) for n in range(ORDERS)]
    ledger.ingest(orders)
    made = decisions(orders, hold_reason="incomplete_address")
    ledger.commit_decisions(made, outbox(orders, made))
    ledger.close()


def kill_once(path: Path, rng: random.Random) -> set[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.ledger.kill9_operator_writer",
                             str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
    seen = ""
    while not line.startswith("fixed "):  # at least one fix, so a loaded machine still counts
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "writer exited"
        seen += line
    time.sleep(rng.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"writer died by itself:\n{err}"
    return {int(x.split()[1]) for x in (seen + out).splitlines() if x.startswith("fixed ")}


def check(path: Path, acknowledged: set[int]) -> int:
    """Assert every order is wholly old or wholly fixed; return how many are fixed."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    ledger = SQLiteLedger(path)
    fixed = 0
    try:
        c = ledger.conn
        for n in range(ORDERS):
            old = held_order(n)
            oid, version, stage = c.execute(
                "SELECT id, version_us, stage FROM orders WHERE channel = ? AND shop = ? AND "
                "order_id = ?", old.key).fetchone()
            events = [(s, v, body, orjson.loads(d) if d else None) for s, v, body, d in c.execute(
                "SELECT stage, version_us, body IS NOT NULL, detail FROM events WHERE oid = ? "
                "ORDER BY id", (oid,))]
            rows = c.execute("SELECT COUNT(*) FROM outbox WHERE oid = ?", (oid,)).fetchone()[0]
            first = micros(old.modified_at)
            assert events[:2] == [("received", first, 0, None),
                                  ("held", first, 1, events[1][3])], f"order {n}: {events}"
            if version == first:
                assert n not in acknowledged, f"acknowledged fix of order {n} lost"
                assert (stage, len(events), rows) == ("held", 2, 1), f"order {n} half fixed"
                continue
            fixed += 1
            view = ledger.get_order(old.key)
            half = f"order {n} half fixed: {events}"
            assert view.order.receiver.district == "西湖区", half
            assert view.decision.version == view.order.modified_at.isoformat(), half
            assert version == micros(view.order.modified_at) > first, half
            decided = decision_stage(view.decision.hold_reason, view.decision.remedies)
            assert [e[:3] for e in events[2:4]] == [
                ("received", version, 0), (decided, version, 1)], half
            assert len(events) == 5, half
            operator = events[4]
            assert operator[0] == stage == ("held" if view.decision.held else "released"), half
            assert (operator[3]["action"], operator[3]["by"]) == ("edit_address", "kill9"), half
            assert rows == 1 + len(outbox_for([view.order], [view.decision])), (
                f"order {n}: outbox rows not with their decision")
        return fixed
    finally:
        ledger.close()


def test_an_address_fix_killed_midway_is_all_there_or_not_at_all(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    seed(path)
    rng = random.Random(int(os.environ.get("KILL9_SEED", "20261111")))
    began = time.monotonic()
    acknowledged: set[int] = set()
    rounds, fixed = 0, 0
    # at least MIN_ROUNDS kills however slow the host is; the budget only bounds the extra ones
    while rounds < MIN_ROUNDS or (rounds < ROUNDS and time.monotonic() - began < BUDGET_S):
        acknowledged |= kill_once(path, rng)
        fixed = check(path, acknowledged)
        rounds += 1
    print(f"kill -9 during address fixes: {rounds} rounds in {time.monotonic() - began:.1f} s, "
          f"{len(acknowledged)} fixes acknowledged, {fixed} orders fixed")
    assert fixed >= len(acknowledged) >= rounds
    assert fixed < ORDERS, "the writer ran out of held orders: nothing left to kill it during"


def test_the_check_finds_a_fix_written_in_separate_calls_half_done(tmp_path):
    """What the hub did before: the new version, then its decision, then the operator's
    event, each its own transaction. Cut after the first, the check sees it."""
    path = tmp_path / "ledger.sqlite3"
    seed(path)
    ledger = SQLiteLedger(path)
    old = held_order(7)
    ledger.ingest([with_address(old, FIX, old.modified_at)])
    ledger.close()
    with pytest.raises(AssertionError, match="order 7"):
        check(path, set())
