"""The contract on the PostgreSQL ledger, plus concurrent writers.

Needs ``ORDERHUB_PG_DSN`` (``.ci/run`` sets it to the local server). Every test
gets its own schema ``orderhub_test_<run>_<n>``, dropped when it ends, so
parallel runs on one database do not collide.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import uuid
from collections import Counter

import pytest

from hub.ledger import LedgerError, open_ledger
from tests.ledger.contract import LedgerContract, PersistentContract
from tests.ledger.contract_leases import LeaseContract
from tests.ledger.factory import batch, decisions, order, outbox

DSN = os.environ.get("ORDERHUB_PG_DSN", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not DSN, reason="ORDERHUB_PG_DSN is not set: the PostgreSQL ledger "
                                       "tests need a server (.ci/run points it at one)"),
]
RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()


def _sql(schema: str, *statements: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in statements:
            conn.execute(statement)


def _rows(schema: str, query: str) -> list[tuple]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        return conn.execute(query).fetchall()


@pytest.fixture
def schema():
    import psycopg
    from psycopg import sql

    name = f"orderhub_test_{RUN}_{next(_numbers)}"
    yield name
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


class TestPostgresLedger(LedgerContract, LeaseContract, PersistentContract):
    @pytest.fixture
    def store(self, schema):
        return schema

    def open(self, store, clock):
        from hub.ledger.postgres import PostgresLedger

        return PostgresLedger(DSN, schema=store, clock=clock)

    def raw_execute(self, store, sql):
        _sql(store, sql)


def test_commits_wait_for_the_wal_flush(schema):
    ledger = open_ledger(f"{DSN}?schema={schema}")
    settings = ledger.settings()
    assert settings["synchronous_commit"] == "on" and settings["fsync"] == "on"
    assert settings["search_path"] == schema
    assert "password" not in ledger.where and schema in ledger.where
    ledger.close()


def test_an_unreachable_server_is_a_clear_error():
    from hub.ledger.postgres import PostgresLedger

    with pytest.raises(LedgerError, match=r"postgres@127.0.0.1:1/test schema orderhub: cannot "
                                          r"connect") as caught:
        PostgresLedger("postgresql://postgres:s3cret@127.0.0.1:1/test", connect_timeout_s=1)
    assert "s3cret" not in str(caught.value)


def test_two_writers_never_store_two_decisions_for_one_version(schema):
    from hub.ledger.postgres import PostgresLedger

    setup = PostgresLedger(DSN, schema=schema)
    orders = batch(1, 600)
    setup.ingest(orders)
    made = decisions(orders)
    rows = outbox(orders, made)
    stored: list[int] = []
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        try:
            ledger = PostgresLedger(DSN, schema=schema)
            parts = [slice(i, i + 75) for i in range(0, 600, 75)]
            random.Random(seed).shuffle(parts)
            for part in parts:
                shuffled = list(zip(made[part], rows[part], strict=True))
                random.Random(seed + part.start).shuffle(shuffled)
                stored.append(ledger.commit_decisions([d for d, _ in shuffled],
                                                      [r for _, r in shuffled]))
            ledger.close()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(stored) == 600
    assert _rows(schema, "SELECT COUNT(*), COUNT(DISTINCT (oid, version_us)) FROM events "
                         "WHERE body IS NOT NULL") == [(600, 600)]
    assert _rows(schema, "SELECT COUNT(*) FROM outbox") == [(600,)]
    stages = Counter(e.stage for e in setup.events_since())
    assert stages == {"received": 600, "validated": 600, "scored": 600, "routed": 600}
    setup.close()


def test_racing_new_versions_and_decisions_leave_no_stale_routing(schema):
    """One writer ingests newer versions while another commits decisions for the old ones:
    an order shown as routed is always routed on its current version."""
    from hub.ledger.postgres import PostgresLedger

    first = batch(1, 300)
    setup = PostgresLedger(DSN, schema=schema)
    setup.ingest(first)
    newer = [order(n, version=100) for n in range(1, 301)]
    errors: list[BaseException] = []

    def decide() -> None:
        try:
            ledger = PostgresLedger(DSN, schema=schema)
            for i in range(0, 300, 30):
                made = decisions(first[i:i + 30])
                ledger.commit_decisions(made, outbox(first[i:i + 30], made))
            ledger.close()
        except BaseException as exc:
            errors.append(exc)

    def ingest() -> None:
        try:
            ledger = PostgresLedger(DSN, schema=schema)
            for i in range(0, 300, 20):
                ledger.ingest(list(reversed(newer[i:i + 20])))
            ledger.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=decide), threading.Thread(target=ingest)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _rows(schema, "SELECT COUNT(*) FROM orders WHERE stage <> 'received' "
                         "AND decided_us IS DISTINCT FROM version_us") == [(0,)]
    assert {v.order.modified_at for v in map(setup.get_order, (o.key for o in first))} == {
        o.modified_at for o in newer} and len({o.modified_at for o in newer}) == 300
    assert len(setup.undecided_orders()) == _rows(
        schema, "SELECT COUNT(*) FROM orders WHERE stage = 'received'")[0][0]
    setup.close()


def test_two_relays_claim_disjoint_rows(schema):
    from hub.ledger.postgres import PostgresLedger

    setup = PostgresLedger(DSN, schema=schema)
    orders = batch(1, 300)
    setup.ingest(orders)
    made = decisions(orders)
    setup.commit_decisions(made, outbox(orders, made))
    now = setup.clock.now()
    claimed: list[list[int]] = [[], []]

    def relay(slot: int) -> None:
        ledger = PostgresLedger(DSN, schema=schema)
        while rows := ledger.claim(25, 60, now):
            claimed[slot] += [r.id for r in rows]
        ledger.close()

    threads = [threading.Thread(target=relay, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 300 == setup.pending_count()
    setup.close()
