"""Taking in records (``hub.app.intake``), without Ray: over the in-memory fakes, and
over a real in-memory SQLite ledger where the store's size limit matters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hub.app.intake import QUARANTINE_HEAD, Intake
from hub.app.ports import Cursor, PayloadTooLarge
from hub.clock import ManualClock
from hub.domain.adapters import ParseError, Quarantined
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger
from tests.factories import T0, order
from tests.fakes import FakeLedger, FakeRouter


def _giant(n: int):
    """An order over the ledger's 1 MiB limit as JSON."""
    plain = order(n)
    return plain.model_copy(update={"receiver": plain.receiver.model_copy(
        update={"detail": "长" * 400_000})})


def _bad(raw, path: str, reason: str) -> Quarantined:
    return Quarantined(raw, ParseError(path, reason))


def test_orders_are_stored_and_only_new_or_changed_ones_go_to_the_router() -> None:
    ledger, router = FakeLedger(), FakeRouter()
    intake = Intake(ledger, router, ManualClock(T0))
    first = asyncio.run(intake.take_in("tmall", "flagship", [order(1), order(2)]))
    changed = order(2, modified_at=T0 + timedelta(minutes=5))
    again = asyncio.run(intake.take_in("tmall", "flagship", [order(1), changed, order(3)]))
    assert [o.order_id for o in first.new] == ["T100001", "T100002"]
    assert [o.order_id for o in again.new] == ["T100002", "T100003"]
    assert again.new[0] is changed
    assert [[o.order_id for o in b] for b in router.batches] == [
        ["T100001", "T100002"], ["T100002", "T100003"]]
    assert (again.quarantined, again.set_aside, len(again.stored)) == (0, 0, 3)


def test_nothing_new_hands_nothing_to_the_router() -> None:
    ledger, router = FakeLedger(), FakeRouter()
    intake = Intake(ledger, router, ManualClock(T0))
    asyncio.run(intake.take_in("tmall", "flagship", [order(1)]))
    taken = asyncio.run(intake.take_in("tmall", "flagship", [order(1)]))
    assert taken.new == [] and len(router.batches) == 1


def test_bad_records_are_quarantined_with_their_reason_and_the_good_ones_stored() -> None:
    ledger, router = FakeLedger(), FakeRouter()
    clock = ManualClock(T0)
    taken = asyncio.run(Intake(ledger, router, clock).take_in(
        "jd", "s1", [order(1)], [_bad({"orderId": "7"}, "[0].orderState", "unknown")]))
    assert ledger.quarantined == [("jd", "s1", {"orderId": "7"}, "[0].orderState: unknown",
                                   T0)]
    assert (taken.quarantined, len(taken.new)) == (1, 1)


def test_a_bad_record_too_large_to_quarantine_keeps_its_head() -> None:
    ledger = FakeLedger(quarantine_limit=QUARANTINE_HEAD)
    raw = "x" * (QUARANTINE_HEAD * 3)
    asyncio.run(Intake(ledger, FakeRouter(), ManualClock(T0)).take_in(
        "tmall", "s", [], [_bad(raw, "", "not an object")]))
    [(_, _, kept, error, _)] = ledger.quarantined
    assert kept == raw[:QUARANTINE_HEAD]
    assert error.startswith("<order>: not an object; ") and "characters kept" in error


def test_the_cursor_moves_with_the_orders_and_alone_when_there_are_none() -> None:
    ledger = FakeLedger()
    intake = Intake(ledger, FakeRouter(), ManualClock(T0))
    end = T0 + timedelta(minutes=1)
    asyncio.run(intake.take_in("tmall", "s", [order(1)], cursor=Cursor("tmall", "s", end)))
    assert ledger.cursors == {("tmall", "s"): end}
    later = end + timedelta(minutes=1)
    asyncio.run(intake.take_in("tmall", "s", [], cursor=Cursor("tmall", "s", later)))
    assert ledger.cursors == {("tmall", "s"): later}
    asyncio.run(intake.take_in("tmall", "s", []))  # nothing and no cursor: no store call
    assert ledger.ingest_calls == [["T100001"], []]


def test_one_order_too_large_is_set_aside_and_the_others_go_on_fake() -> None:
    ledger, router = FakeLedger(too_large=["T100002"]), FakeRouter()
    taken = asyncio.run(Intake(ledger, router, ManualClock(T0)).take_in(
        "tmall", "s", [order(1), order(2), order(3)]))
    assert [o.order_id for o in router.orders] == ["T100001", "T100003"]
    assert [q[3] for q in ledger.quarantined] == ["order T100002 is too large"]
    assert (taken.set_aside, taken.quarantined) == (1, 1)
    assert [o.order_id for o in taken.stored] == ["T100001", "T100003"]


def test_a_store_refusal_that_names_no_order_is_not_swallowed() -> None:
    ledger, router = FakeLedger(refuse_all=True), FakeRouter()
    with pytest.raises(PayloadTooLarge):
        asyncio.run(Intake(ledger, router, ManualClock(T0)).take_in("tmall", "s", [order(1)]))
    assert router.batches == [] and ledger.quarantined == []


def test_a_batch_with_one_order_too_large_for_the_ledger_stores_the_others() -> None:
    """A real (in-memory SQLite) ledger, its real size limit: the others are stored and
    decided, the cursor moves, and the giant is quarantined with its reason and head."""
    ledger, router = MemoryLedger(), FakeRouter()
    giant = _giant(2)
    orders = [order(1), giant, order(3)]
    end = T0 + timedelta(minutes=1)
    try:
        taken = asyncio.run(Intake(LocalLedger(ledger), router, ManualClock(T0)).take_in(
            "tmall", "flagship", orders, [_bad([1, 2], "", "not an order")],
            cursor=Cursor("tmall", "flagship", end)))
        assert [o.order_id for o in router.orders] == ["T100001", "T100003"]
        assert ledger.get_order(giant.key) is None
        assert ledger.get_order(orders[0].key) is not None
        assert ledger.get_cursor("tmall", "flagship") == end
        bad, set_aside = sorted(ledger.quarantine_list(), key=lambda q: "T100002" in q.error)
        assert bad.error == "<order>: not an order" and bad.text == "[1,2]"
        assert set_aside.error.startswith(f"order {giant.order_id} is ")
        assert "bytes as JSON, over the ledger's limit" in set_aside.error
        assert len(set_aside.raw) <= QUARANTINE_HEAD and set_aside.raw.startswith(b"{")
        assert (taken.quarantined, taken.set_aside, len(taken.new)) == (2, 1, 2)
    finally:
        ledger.close()
