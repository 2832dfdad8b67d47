"""Fencing on PostgreSQL with two real connections (two hubs): once another hub took the
lease, the hub that lost it cannot move the cursor, however its writes interleave."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from hub.ledger import Cursor, LeaseLost
from tests.ledger.factory import batch
from tests.ledger.test_postgres import DSN, _rows, pytestmark, schema  # noqa: F401

BASE = datetime(2026, 11, 11, tzinfo=UTC)


def _open(schema_name: str):
    from hub.ledger.postgres import PostgresLedger

    return PostgresLedger(DSN, schema=schema_name)


def test_a_hub_that_lost_its_lease_cannot_move_the_cursor(schema) -> None:  # noqa: F811
    a, b = _open(schema), _open(schema)
    try:
        now = datetime.now(UTC)
        assert a.lease_acquire("tmall/flagship", "hub-A", 0.5, now) == 1
        taken = threading.Event()
        written: list[int] = []
        refused: list[str] = []

        def stale_hub() -> None:
            # hub A goes on pulling as if it still held the shop, with epoch 1
            for i in range(1, 10_000):
                try:
                    a.ingest(batch(i, 1, shop="flagship", channel="tmall"),
                             cursor=Cursor("tmall", "flagship", BASE + timedelta(seconds=i), 1))
                except LeaseLost as exc:
                    refused.append(str(exc))
                    return
                written.append(i)
                if i == 20:
                    taken.wait(30)  # B takes the lease while A is still writing

        thread = threading.Thread(target=stale_hub)
        thread.start()
        while len(written) < 20:
            thread.join(0.01)
        later = now + timedelta(seconds=1)  # A's lease ran out
        assert b.lease_acquire("tmall/flagship", "hub-B", 15, later) == 2
        taken.set()
        b.set_cursor("tmall", "flagship", BASE + timedelta(days=1), 2)
        thread.join(60)
        assert refused and "epoch 2, held by hub-B" in refused[0]
        assert b.get_cursor("tmall", "flagship") == BASE + timedelta(days=1)
        assert _rows(schema, "SELECT epoch FROM cursors WHERE shop = 'flagship'") == [(2,)]
        # every order A stored went with a cursor move it was still entitled to
        stored = _rows(schema, "SELECT count(*) FROM orders")[0][0]
        assert stored == len(written)
    finally:
        a.close()
        b.close()


def test_lease_takeover_and_fenced_write_serialise(schema) -> None:  # noqa: F811
    """Many rounds of: A writes with its epoch while B takes the lease at the same moment.
    Whatever the interleaving, a write of A that succeeded committed before B's takeover:
    B's cursor, written after it took the lease, is never overwritten by A."""
    a, b = _open(schema), _open(schema)
    try:
        t = datetime.now(UTC)
        epoch_a = a.lease_acquire("jd/s", "hub-A", 0.001, t)
        for round_ in range(30):
            t += timedelta(seconds=1)
            go = threading.Barrier(2)
            outcome: list[str] = []

            def write_a(epoch: int, n: int = round_, go: threading.Barrier = go,
                        outcome: list[str] = outcome) -> None:
                go.wait()
                try:
                    a.set_cursor("jd", "s", BASE + timedelta(seconds=n), epoch)
                    outcome.append("a-wrote")
                except LeaseLost:
                    outcome.append("a-refused")

            thread = threading.Thread(target=write_a, args=(epoch_a,))
            thread.start()
            go.wait()
            epoch_b = b.lease_acquire("jd/s", "hub-B" if round_ % 2 == 0 else "hub-A", 0.001, t)
            b.set_cursor("jd", "s", BASE + timedelta(days=1, seconds=round_), epoch_b)
            thread.join(30)
            assert b.get_cursor("jd", "s") == BASE + timedelta(days=1, seconds=round_), outcome
            epoch_a = epoch_b
    finally:
        a.close()
        b.close()
