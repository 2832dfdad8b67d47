"""Deciding a batch (``hub.app.decide``), without Ray: the domain's real checks,
scores and routing, committed to the fake decision store."""

from __future__ import annotations

import asyncio

from hub.app.decide import decide_batch
from hub.domain.anomalies import find_anomalies
from hub.domain.order import Receiver
from hub.domain.outbox import DINGTALK, WMS
from hub.domain.priority import score_batch
from hub.domain.rules import default_ruleset
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger
from tests.factories import order
from tests.fakes import FakeLedger

NO_DISTRICT = Receiver(name="李四", phone="13812345678", province="浙江省", city="杭州市",
                       district="", street="", detail="杭州")


def _decide(batch, store):
    rules = default_ruleset()
    anomalies = find_anomalies(batch, {}, [], rules)
    scores = score_batch(batch, {}, rules)
    return asyncio.run(decide_batch(batch, anomalies, scores, rules, store))


def test_a_batch_is_routed_and_committed_with_the_messages_it_owes() -> None:
    batch = [order(1), order(2), order(3, receiver=NO_DISTRICT)]
    store = FakeLedger()
    decided = _decide(batch, store)
    assert [d.order_id for d in decided.decisions] == [o.order_id for o in batch]
    assert decided.stored == 3 and decided.held == 1
    assert decided.decisions[2].hold_reason == "incomplete_address"
    wms = sorted(key for key, m in store.outbox.items() if m.destination == WMS)
    assert wms == ["wms:tmall:flagship:T100001", "wms:tmall:flagship:T100002"]
    [alert] = [m for m in store.outbox.values() if m.destination == DINGTALK]
    assert alert.payload["order_id"] == "T100003"


def test_a_version_decided_twice_is_stored_once() -> None:
    batch = [order(1), order(2)]
    store = FakeLedger()
    assert _decide(batch, store).stored == 2
    again = _decide(batch, store)
    assert (again.stored, len(again.decisions)) == (0, 2)
    assert len(store.outbox) == 2


def test_decisions_reach_a_real_ledger_in_one_commit() -> None:
    ledger = MemoryLedger()
    try:
        batch = [order(1), order(2, receiver=NO_DISTRICT)]
        ledger.ingest(batch)
        decided = _decide(batch, LocalLedger(ledger))
        assert decided.stored == 2
        assert ledger.counts()["stages"] == {"routed": 1, "held": 1}
        assert ledger.pending_count() == 2  # the WMS dispatch and the alert
    finally:
        ledger.close()
