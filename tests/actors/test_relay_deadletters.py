"""A dispatch the warehouse refuses, through the real relay, the real WMS client and the
WMS emulator over HTTP on loopback (its ``rejected`` answer for a malformed line), on a
real SQLite ledger: the others are delivered, the refused one is retried with backoff and
then dead-lettered, with its stage, its alert, and no further sending.
(The relay runs in this process: its ledger actor is the ledger service called locally.)"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import httpx
import pytest

from hub.actors.relay import OutboxRelay
from hub.app.deadletters import DISPATCH_TRIES, WAREHOUSE_GROUP, resend
from hub.clock import ManualClock
from hub.connectors.wms import WmsClient
from hub.domain.decision import Stage
from hub.domain.outbox import DINGTALK, WMS, backoff_s, outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from sim.emulators.wms import WmsConfig, WmsEmulator
from tests.actors.test_relay_followups import Local
from tests.factories import T0, order


@pytest.fixture
def hub(tmp_path):
    threshold = gc.get_threshold()
    clock = ManualClock(T0 + timedelta(minutes=5))
    service = LedgerService(str(tmp_path / "ledger.db"), clock)
    with WmsEmulator(clock, WmsConfig(default_workers=50)) as emulator:
        # one connection pool per event loop: each round runs in its own
        relay = OutboxRelay(Local(service), clock, wms=None)
        relay.wms_url = emulator.url
        yield service.ledger, emulator, relay, clock
    service.close()
    gc.set_threshold(*threshold)


def commit_with_one_malformed(ledger, orders, bad_order_id: str) -> None:
    ledger.ingest(orders)
    made = decide(orders, {}, [], default_ruleset())
    rows = outbox_for(orders, made)
    for row in rows:
        if row.destination == WMS and row.payload["order_id"] == bad_order_id:
            row.payload["receiver"] = "unreadable"  # the WMS wants an object: it refuses it
    ledger.commit_decisions(made, rows)


def deliver_once(relay) -> int:
    """One delivery round, with a WMS client of its own event loop."""
    async def once() -> int:
        async with WmsClient(relay.wms_url) as wms:
            relay.wms = wms
            return await relay.deliver_once()

    return asyncio.run(once()) if relay.wms_url else asyncio.run(relay.deliver_once())


def run_until_quiet(relay, clock, rounds: int, first: int = 1) -> list[int]:
    """Delivery rounds, the clock moved on by each retry's backoff (``first``: the try
    of the first round); rows sent per round."""
    sent = []
    for attempt in range(first, first + rounds):
        sent.append(deliver_once(relay))
        clock.advance(backoff_s(attempt) + 0.5)
    return sent


def test_one_refused_order_in_a_batch_of_100(hub) -> None:
    ledger, emulator, relay, clock = hub
    orders = [order(n) for n in range(1, 101)]
    bad = orders[41]
    commit_with_one_malformed(ledger, orders, bad.order_id)

    assert deliver_once(relay) == 100
    stages = {o.order_id: ledger.get_order(o.key).stage for o in orders}
    assert sum(s == Stage.DISPATCHED for s in stages.values()) == 99
    assert stages[bad.order_id] == Stage.ROUTED  # refused, due again after the backoff
    assert emulator.state.counts["accepted"] == 99 and emulator.state.counts["rejected"] == 1
    assert relay.counts["refused"] == 1 and relay.counts["delivered"] == 99

    clock.advance(backoff_s(1) + 0.5)
    sent = run_until_quiet(relay, clock, 3 * DISPATCH_TRIES, first=2)
    assert sent[:DISPATCH_TRIES - 1] == [1] * (DISPATCH_TRIES - 1)  # the retries ...
    assert sent[DISPATCH_TRIES - 1] == 1  # ... and the alert, the round after the last try
    assert set(sent[DISPATCH_TRIES:]) == {0}  # then nothing, however long it runs
    assert emulator.state.counts["rejected"] == DISPATCH_TRIES
    assert emulator.state.counts["accepted"] == 99  # the 99 were never sent again

    view = ledger.get_order(bad.key)
    assert view.stage == Stage.DISPATCH_FAILED
    failed = view.timeline[-1]
    assert failed.stage == Stage.DISPATCH_FAILED and failed.detail["attempts"] == DISPATCH_TRIES
    assert "receiver" in failed.detail["reason"]  # the WMS's own reason, which field
    [letter] = ledger.dead_letters()
    assert letter.order == bad.key and letter.attempts == DISPATCH_TRIES
    assert ledger.pending_count() == 0
    assert relay.counts["dead_lettered"] == 1 and relay.counts["alerts_sent"] == 0
    assert relay.counts["alert_orders"] == 0  # no robot: recorded as delivered, not sent
    anomalies = {a["reason"]: a for a in ledger.open_anomalies()}
    assert anomalies["dispatch_failed"]["count"] == 1
    assert anomalies["dispatch_failed"]["group"] == WAREHOUSE_GROUP


def test_the_alert_names_the_order_not_the_buyer(hub) -> None:
    ledger, _emulator, relay, clock = hub
    orders = [order(n) for n in range(200, 203)]
    commit_with_one_malformed(ledger, orders, orders[0].order_id)
    relay.dispatch_tries = 1
    deliver_once(relay)
    [alert] = ledger.claim(10, 30, clock.now())
    assert alert.destination == DINGTALK and alert.payload["group"] == WAREHOUSE_GROUP
    assert alert.payload["order_id"] == orders[0].order_id
    assert alert.payload["reasons"] == ["dispatch_failed"]
    assert "张三" not in str(alert.payload) and "138" not in str(alert.payload)


def test_a_dead_letter_resent_after_the_fix_is_delivered(hub) -> None:
    ledger, emulator, relay, clock = hub
    [a] = orders = [order(300)]
    commit_with_one_malformed(ledger, orders, a.order_id)
    relay.dispatch_tries = 2
    run_until_quiet(relay, clock, 4)
    [letter] = ledger.dead_letters()
    # the malformed row is what the operator resends here: the WMS refuses it again, once
    # more through every try, and it is dead-lettered again (never re-sent forever)
    resend(ledger, ledger, letter.id, by="ops", at=clock.now())
    assert ledger.get_order(a.key).stage == Stage.RELEASED
    run_until_quiet(relay, clock, 4)
    assert ledger.get_order(a.key).stage == Stage.DISPATCH_FAILED
    assert emulator.state.counts["rejected"] == 4


def test_an_outage_is_retried_and_never_dead_lettered(hub) -> None:
    ledger, _emulator, relay, clock = hub
    commit_with_one_malformed(ledger, [order(400)], "none")
    relay.dispatch_tries = 2
    down = httpx.MockTransport(lambda r: httpx.Response(503, json={"error": "busy"}))
    relay.wms, relay.wms_url = WmsClient("http://wms.test", transport=down), ""
    assert run_until_quiet(relay, clock, 5) == [1] * 5
    assert ledger.dead_letters() == [] and ledger.pending_count() == 1
