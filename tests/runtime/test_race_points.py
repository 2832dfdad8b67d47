"""The buyer's change at each race point of the warehouse's work, on the WMS emulator's
clock, through the real relay and WMS client and the WMS emulator over HTTP, on a real
SQLite ledger: a cancellation, an address change and a one-line refund arriving before
the dispatch, between the dispatch and picking, after packing and after shipping. Each
ends in the right warehouse state, the right stage events and the right alerts."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import pytest

from hub.actors.relay import OutboxRelay
from hub.clock import ManualClock
from hub.connectors.wms import WmsClient
from hub.domain.decision import Stage
from hub.domain.order import Item, Order
from hub.domain.outbox import CS_GROUP, outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from sim.emulators.wms import WmsConfig, WmsEmulator
from tests.actors.test_relay_followups import Local
from tests.factories import T0, order

POINTS = ("before_dispatch", "before_picking", "after_packing", "after_shipping")
LATE = ("after_packing", "after_shipping")
TWO_LINES = (Item(sku="LAMP", quantity=1, price_fen=19900), Item(sku="BULB", quantity=3,
                                                                 price_fen=1500))


@pytest.fixture
def world(tmp_path):
    threshold = gc.get_threshold()
    clock = ManualClock(T0 + timedelta(minutes=5))
    service = LedgerService(str(tmp_path / "ledger.db"), clock)
    with WmsEmulator(clock, WmsConfig(default_workers=4)) as wms:
        yield service, clock, wms
    service.close()
    gc.set_threshold(*threshold)


def commit(ledger, o) -> None:
    ledger.ingest([o])
    made = decide([o], {}, [], default_ruleset())
    ledger.commit_decisions(made, outbox_for([o], made))


def later(o, **changes):
    return Order.model_validate({**o.model_dump(), **changes,
                                 "modified_at": o.modified_at + timedelta(minutes=2)})


def change_of(kind: str, o):
    if kind == "cancel":
        return later(o, status="cancelled")
    if kind == "address":
        return later(o, receiver={**o.receiver.model_dump(), "detail": "新地址 8 号"})
    return later(o, items=[TWO_LINES[0].model_dump()], amounts={
        **o.amounts.model_dump(), "total_fen": 19900, "paid_fen": 19900})


class Robot:
    """The DingTalk robot's side: each message the relay sent, as (title, text)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_markdown(self, title: str, text: str) -> None:
        self.sent.append((title, text))


def stage_at_wms(wms, o) -> str | None:
    found = wms.state.lookup([o.key])
    return found[0]["stage"] if found else None


async def race(service, clock, wms, kind: str, point: str):
    ledger = service.ledger
    o = order(1, items=TWO_LINES, amounts=order(1, items=TWO_LINES).amounts)
    commit(ledger, o)
    async with WmsClient(wms.url) as client:
        robot = Robot()
        relay = OutboxRelay(Local(service), clock, wms=client, robot=robot)
        if point != "before_dispatch":
            await relay.deliver_once()
            assert stage_at_wms(wms, o) == "dispatched"
        target = {"after_packing": "packed", "after_shipping": "shipped"}.get(point)
        while target and stage_at_wms(wms, o) != target:
            clock.advance(10)
        await relay.poll_wms_once()
        commit(ledger, change_of(kind, o))
        await relay.deliver_once()  # the dispatch, or the intercept / amend
        clock.advance(6 * 3600)  # the warehouse finishes whatever it still may
        await relay.deliver_once()  # the alerts
        await relay.poll_wms_once()
        alerts = robot.sent
        assert ledger.pending_count() == 0
    wms_orders = [w for w in wms.state.records.orders if w.ident == o.key]
    return ledger.get_order(o.key), wms_orders, alerts, relay.counts


def o_id(view) -> str:
    return view.summary.key[2]


@pytest.mark.parametrize("point", POINTS)
def test_a_cancellation(world, point: str) -> None:
    service, clock, wms = world
    view, at_wms, alerts, counts = asyncio.run(race(service, clock, wms, "cancel", point))
    stages = [e.stage for e in view.timeline]
    if point == "before_dispatch":
        assert at_wms == [] and view.stage == Stage.CANCELLED
        assert view.timeline[-1].detail == {"dispatch": "withdrawn"}
        assert alerts == []
    elif point == "before_picking":
        assert [w.stage for w in at_wms] == ["intercepted"]
        assert view.stage == Stage.INTERCEPTED and alerts == []
        assert counts["intercepted"] == 1
    else:
        assert [w.stage for w in at_wms] == ["shipped"]  # too late: it ships
        assert view.stage == Stage.INTERCEPT_TOO_LATE
        late = next(e for e in view.timeline if e.stage == Stage.INTERCEPT_TOO_LATE)
        assert late.detail["op"] == "intercept"
        assert late.detail["todo"] == "courier interception / return to sender"
        [(title, text)] = alerts
        assert CS_GROUP in title and o_id(view) in text and "拦截不及" in text
    assert (Stage.SHIPPED in stages) is (point in LATE)  # shipped only when too late


@pytest.mark.parametrize("kind", ["address", "refund"])
@pytest.mark.parametrize("point", POINTS)
def test_an_address_change_and_a_one_line_refund(world, kind: str, point: str) -> None:
    service, clock, wms = world
    view, at_wms, alerts, _ = asyncio.run(race(service, clock, wms, kind, point))
    [shipped] = at_wms  # one warehouse order, shipped, whatever happened
    assert shipped.stage == "shipped"
    took = point not in LATE
    new_address = shipped.receiver["detail"] == "新地址 8 号"
    lines = [i["sku"] for i in shipped.items]
    if kind == "address":
        assert new_address is took and lines == ["LAMP", "BULB"]
    else:
        assert lines == (["LAMP"] if took else ["LAMP", "BULB"]) and not new_address
    stages = [e.stage for e in view.timeline]
    assert (Stage.AMENDED in stages) is (point == "before_picking")
    if took:
        assert alerts == [] and view.stage == Stage.SHIPPED
    else:
        assert view.stage == Stage.INTERCEPT_TOO_LATE
        late = next(e for e in view.timeline if e.stage == Stage.INTERCEPT_TOO_LATE)
        assert late.detail["op"] == "amend"
        [(title, text)] = alerts
        assert CS_GROUP in title and o_id(view) in text and "redirect" in text
