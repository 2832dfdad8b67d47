"""Property: for any interleaving of buyer changes (cancel, new address) and the
warehouse's progress, the warehouse never ships what the buyer cancelled while it could
still be stopped, and never ships an order twice. Driven in-process: a ledger, the real
relay and the WMS emulator's work model (``WmsState``) on one ManualClock; the WMS
client's calls go straight to the emulator's state."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.actors.relay import OutboxRelay
from hub.clock import ManualClock
from hub.connectors.wms import AMEND_FIELDS, INTERCEPT_FIELDS
from hub.domain.order import Order
from hub.domain.outbox import outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from sim.emulators.warehouse import WmsConfig, WmsState
from tests.actors.test_relay_followups import Local
from tests.factories import T0, order

ORDERS = 3
STOPPABLE = (None, "dispatched", "picked")  # not at the WMS yet, or not packed


class InProcessWms:
    """``hub.connectors.wms.WmsClient``'s calls, answered by the emulator's state."""

    def __init__(self, state: WmsState) -> None:
        self.state = state

    async def dispatch_each(self, rows):
        return self.state.dispatch([dict(r) for r in rows])

    async def intercept(self, rows):
        return self.state.intercept([{k: r[k] for k in INTERCEPT_FIELDS if k in r}
                                     for r in rows])

    async def amend(self, rows):
        return self.state.amend([{k: r[k] for k in AMEND_FIELDS if k in r} for r in rows])

    async def status_since(self, seq, limit=1000):
        return self.state.events_since(seq, limit)


steps = st.lists(st.one_of(
    st.tuples(st.just("cancel"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("address"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("deliver"), st.just(0)),
    st.tuples(st.just("progress"), st.integers(5, 900)),
), min_size=1, max_size=14)


def commit(ledger, o: Order) -> None:
    ledger.ingest([o])
    made = decide([o], {}, [], default_ruleset())
    ledger.commit_decisions(made, outbox_for([o], made))


async def play(plan) -> tuple[WmsState, dict[int, bool], list[Order]]:
    clock = ManualClock(T0 + timedelta(minutes=5))
    service = LedgerService("memory:", clock)
    wms = WmsState(clock, WmsConfig(default_workers=1, priority=False))
    relay = OutboxRelay(Local(service), clock, wms=InProcessWms(wms))
    ledger = service.ledger
    orders = [order(n) for n in range(1, ORDERS + 1)]
    for o in orders:
        commit(ledger, o)
    current = list(orders)
    stoppable: dict[int, bool] = {}  # order -> whether it could be stopped when cancelled
    version = 0
    try:
        for action, arg in plan:
            if action in ("cancel", "address"):
                if arg in stoppable:
                    continue  # cancelled already: nothing changes it any more
                version += 1
                o = current[arg]
                changes = {"status": "cancelled"} if action == "cancel" else {
                    "receiver": {**o.receiver.model_dump(), "detail": f"新地址 {version} 号"}}
                new = Order.model_validate({**o.model_dump(), **changes, "modified_at":
                                            o.modified_at + timedelta(minutes=version)})
                if action == "cancel":
                    held = wms.lookup([o.key])
                    stoppable[arg] = all(w["stage"] in STOPPABLE for w in held)
                current[arg] = new
                commit(ledger, new)
                await relay.deliver_once()  # the hub acts on it at once
            elif action == "deliver":
                await relay.deliver_once()
            else:
                clock.advance(arg)
                await relay.poll_wms_once()
        for _ in range(12):  # then the warehouse finishes, the hub retries what is due
            clock.advance(600)
            await relay.deliver_once()
            await relay.poll_wms_once()
    finally:
        service.close()
    return wms, stoppable, orders


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_never_ships_a_stoppable_cancellation_and_never_ships_twice(plan) -> None:
    threshold = gc.get_threshold()
    try:
        wms, stoppable, orders = asyncio.run(play(plan))
    finally:
        gc.set_threshold(*threshold)
    for n, o in enumerate(orders):
        held = [w for w in wms.records.orders if w.ident == o.key]
        assert len(held) <= 1, f"{o.order_id} dispatched twice"
        shipped = [w for w in held if w.stage == "shipped"]
        assert len(shipped) <= 1
        if stoppable.get(n):
            assert not shipped, f"{o.order_id} shipped although cancelled in time: {plan}"
        elif n not in stoppable:
            assert len(shipped) == 1, f"{o.order_id} never shipped: {plan}"
