"""The reconciler over the real emulators: the Tmall marketplace asked by id
(``taobao.trade.fullinfo.get``), the WMS emulator looked up, a real SQLite ledger.
A cancellation the hub never pulled, shipped by the warehouse, is ``shipped_after_cancel``
with an alert to customer service; orders that agree raise nothing.
(The actors run in this process: the ledger actor is the ledger service called locally.)"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import pytest

from hub.actors.reconciler import Reconciler
from hub.actors.relay import OutboxRelay
from hub.clock import ManualClock
from hub.connectors.wms import WmsClient
from hub.domain.decision import Stage
from hub.domain.outbox import DINGTALK, outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from sim.emulators.wms import WmsConfig, WmsEmulator
from tests.actors.test_relay_followups import Local
from tests.factories import T0, order
from tests.sim.marketplace_helpers import client, make_state, serving


@pytest.fixture
def world(tmp_path):
    threshold = gc.get_threshold()
    clock = ManualClock(T0 + timedelta(minutes=5))
    service = LedgerService(str(tmp_path / "ledger.db"), clock)
    kept, gone = order(1), order(2)
    cancelled = gone.model_copy(update={"status": "cancelled",
                                        "modified_at": gone.modified_at + timedelta(minutes=1)})
    state = make_state("tmall", [kept, gone], now=clock.now())
    state.add_orders([cancelled])  # the buyer cancelled; the hub never pulled it
    with WmsEmulator(clock, WmsConfig(default_workers=5)) as wms, serving(state) as market:
        ledger = service.ledger
        ledger.ingest([kept, gone])
        made = decide([kept, gone], {}, [], default_ruleset())
        ledger.commit_decisions(made, outbox_for([kept, gone], made))
        yield service, ledger, clock, wms, market, (kept, gone)
    service.close()
    gc.set_threshold(*threshold)


def run(service, clock, wms_url, market_url, what):
    """``what(relay, reconciler)`` with clients of its own event loop."""
    async def go():
        async with WmsClient(wms_url) as wms:
            markets = {("tmall", "flagship"): client("tmall", market_url)}
            relay = OutboxRelay(Local(service), clock, wms=wms)
            reconciler = Reconciler(Local(service), wms, clock, markets=markets,
                                    settle_wall_s=0.0)
            try:
                return await what(relay, reconciler)
            finally:
                await markets[("tmall", "flagship")].aclose()

    return asyncio.run(go())


def test_a_cancellation_the_warehouse_shipped_is_found_at_the_source(world) -> None:
    service, ledger, clock, wms, market, (kept, gone) = world

    async def deliver_and_ship(relay, _reconciler):
        await relay.deliver_once()
        clock.advance(4 * 3600)  # the warehouse picks, packs and ships both
        await relay.poll_wms_once()

    run(service, clock, wms.url, market.url, deliver_and_ship)
    assert [ledger.get_order(o.key).stage for o in (kept, gone)] == [Stage.SHIPPED] * 2

    async def two_rounds(_relay, reconciler):
        return [await reconciler.reconcile_once(), await reconciler.reconcile_once(),
                reconciler.counts]

    first, second, counts = run(service, clock, wms.url, market.url, two_rounds)
    assert first == []  # a finding must last a round
    [found] = second
    assert (found["key"], found["reason"]) == (gone.key, "shipped_after_cancel")
    assert (found["marketplace"], found["wms"], found["ledger"]) == (
        "cancelled", "shipped", "shipped")
    assert (counts["asked"], counts["answered"]) == (4, 4)  # two orders, two rounds
    view = ledger.get_order(gone.key)
    assert view.stage == Stage.SHIPPED_AFTER_CANCEL
    assert view.timeline[-1].detail["todo"].startswith("recall the parcel")
    assert ledger.get_order(kept.key).stage == Stage.SHIPPED  # the marketplace agrees
    alerts = [m for m in ledger.claim(10, 30, clock.now()) if m.destination == DINGTALK]
    assert [(a.payload["order_id"], a.payload["group"]) for a in alerts] == [
        (gone.order_id, "cs-orders")]
    anomalies = {a["reason"]: a["count"] for a in ledger.open_anomalies()}
    assert anomalies["shipped_after_cancel"] == 1

    async def later(_relay, reconciler):
        return await reconciler.reconcile_once()

    # a reconciler started afresh raises it no more: the ledger shows it to customer service
    assert run(service, clock, wms.url, market.url, later) == []
