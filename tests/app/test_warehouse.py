"""Recording a warehouse status (``hub.app.warehouse``), without Ray."""

from __future__ import annotations

import asyncio

import pytest

from hub.app.warehouse import StatusRefused, record_status
from hub.domain.decision import Stage
from hub.errors import OrderHubError
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger
from tests.factories import T0, order
from tests.fakes import FakeLedger

SHIPPED = {"channel": "tmall", "shop": "flagship", "order_id": "T100001", "stage": "shipped",
           "at": "2026-11-11T10:00:00+08:00", "tracking_no": "SF123"}


def test_reports_become_stage_events_recorded_at_the_hubs_time() -> None:
    stages = FakeLedger()
    picked = {**SHIPPED, "stage": "picked", "tracking_no": None}
    assert asyncio.run(record_status([picked, SHIPPED], stages, T0)) == 2
    first, second = stages.stages
    assert (first.stage, second.stage) == (Stage.PICKED, Stage.SHIPPED)
    assert second.key == ("tmall", "flagship", "T100001") and second.at == T0
    assert second.tracking_no == "SF123"
    assert second.detail == {"wms_at": "2026-11-11T10:00:00+08:00"}


@pytest.mark.parametrize(("report", "why"), [
    ({**SHIPPED, "stage": "teleported"}, "unknown stage 'teleported'"),
    ({**SHIPPED, "stage": "received"}, "unknown stage 'received'"),  # not a warehouse's
    ({k: v for k, v in SHIPPED.items() if k != "order_id"}, "missing 'order_id'"),
    ("shipped", "status report 1: missing"),
])
def test_a_report_the_hub_cannot_read_refuses_the_whole_batch(report, why) -> None:
    stages = FakeLedger()
    with pytest.raises(StatusRefused, match=why) as refused:
        asyncio.run(record_status([SHIPPED, report], stages, T0))
    assert isinstance(refused.value, OrderHubError)
    assert stages.stages == []


def test_nothing_reported_records_nothing() -> None:
    stages = FakeLedger()
    assert asyncio.run(record_status([], stages, T0)) == 0


def test_a_status_reaches_a_real_ledger() -> None:
    ledger = MemoryLedger()
    try:
        ledger.ingest([order(1)])
        asyncio.run(record_status([SHIPPED], LocalLedger(ledger), T0))
        view = ledger.get_order(("tmall", "flagship", "T100001"))
        assert (view.stage, view.tracking_no) == ("shipped", "SF123")
    finally:
        ledger.close()


def test_a_report_for_an_order_the_hub_never_sent_refuses_the_batch() -> None:
    ledger = MemoryLedger()
    try:
        ledger.ingest([order(1)])
        port = LocalLedger(ledger)
        stranger = {**SHIPPED, "order_id": "T999999"}
        with pytest.raises(StatusRefused, match=r"unknown order.*tmall:flagship:T999999"):
            asyncio.run(record_status([SHIPPED, stranger], port, T0, orders=port))
        assert ledger.get_order(("tmall", "flagship", "T100001")).stage == "received"
        assert asyncio.run(record_status([SHIPPED], port, T0, orders=port)) == 1
    finally:
        ledger.close()
