"""The ledger writer actor's own calls, on the plain class (its store is a real file)."""

from datetime import timedelta

from hub.ledger.service import LedgerService
from tests.factories import order


def test_ingest_positions_names_the_new_and_changed_orders_of_the_call(tmp_path) -> None:
    service = LedgerService(str(tmp_path / "ledger.sqlite3"))
    try:
        first = [order(1), order(2), order(3)]
        assert service.ingest_positions(first) == [0, 1, 2]
        newer = order(2).model_copy(update={"modified_at": order(2).modified_at
                                            + timedelta(seconds=30)})
        again = [order(1), newer, order(3), order(4)]
        assert service.ingest_positions(again) == [1, 3]
        assert service.ingest_positions(again) == []
        assert service.get_order(newer.key).order == newer
    finally:
        service.close()


def test_rows_encoded_by_the_caller_are_stored_as_the_orders_themselves(tmp_path) -> None:
    """``ingest_wire`` (rows made in the puller's process, ``hub.app.wire``) answers and
    stores what ``ingest_positions`` does with the orders: same positions, same bodies,
    the newest version of a key given twice, the cursor moved with no rows."""
    from hub.app.ports import Cursor
    from hub.app.wire import ingest_bytes

    wired = LedgerService(str(tmp_path / "wired.sqlite3"))
    plain = LedgerService(str(tmp_path / "plain.sqlite3"))
    try:
        newer = order(2).model_copy(update={"modified_at": order(2).modified_at
                                            + timedelta(seconds=30)})
        for batch in ([order(1), order(2), order(3)], [order(1), newer, order(2), order(4)],
                      [order(1), newer]):
            assert wired.ingest_wire(ingest_bytes(batch)) == plain.ingest_positions(batch)
        for n in (1, 3, 4):
            assert wired.get_order(order(n).key).order == plain.get_order(order(n).key).order
        assert wired.get_order(newer.key).order == newer
        assert _bodies(tmp_path / "wired.sqlite3") == _bodies(tmp_path / "plain.sqlite3")
        end = order(1).modified_at
        assert wired.ingest_wire(ingest_bytes([]), Cursor("jd", "flagship", end)) == []
        assert wired.get_cursor("jd", "flagship") == end
        assert ingest_bytes([order(1), "not an order"]) is None  # the ledger's path refuses it
    finally:
        wired.close()
        plain.close()


def _bodies(path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(path) as c:
        return c.execute("SELECT o.channel, o.shop, o.order_id, b.body FROM orders o "
                         "JOIN order_bodies b ON b.id = o.id ORDER BY 1, 2, 3").fetchall()


def test_a_decided_batch_encoded_by_the_router_is_committed_as_given(tmp_path) -> None:
    from hub.app.wire import decided_bytes
    from tests.ledger.factory import decision, outbox

    service = LedgerService(str(tmp_path / "ledger.sqlite3"))
    try:
        orders = [order(1), order(2)]
        service.ingest_positions(orders)
        made = [decision(o) for o in orders]
        assert service.commit_decided(decided_bytes(made, outbox(orders, made))) == 2
        assert service.commit_decided(decided_bytes(made, [])) == 0
        assert service.get_order(orders[0].key).decision == made[0]
    finally:
        service.close()


def test_claimed_rows_cross_as_stored_and_read_as_the_ledger_claims_them(tmp_path) -> None:
    """``claim_wire`` + ``hub.app.wire.claimed`` give the relay the messages ``claim``
    gives: same rows, payloads, attempts and lease times."""
    from hub.app.wire import claimed
    from tests.ledger.factory import decision, outbox

    wired = LedgerService(str(tmp_path / "wired.sqlite3"))
    plain = LedgerService(str(tmp_path / "plain.sqlite3"))
    try:
        orders = [order(1), order(2), order(3)]
        made = [decision(o) for o in orders]
        for service in (wired, plain):
            service.ingest_positions(orders)
            service.commit_decisions(made, outbox(orders, made))
        from hub.clock import Clock

        now = Clock().now() + timedelta(minutes=1)  # the rows are due from their commit on
        got = claimed(wired.claim_wire(2, 30.0, now))
        assert got == plain.claim(2, 30.0, now) and len(got) == 2
        assert got[0].payload and got[0].next_attempt_at == now + timedelta(seconds=30)
        assert claimed(wired.claim_wire(10, 30.0, now)) == plain.claim(10, 30.0, now)
        assert claimed(wired.claim_wire(10, 30.0, now)) == []
    finally:
        wired.close()
        plain.close()
