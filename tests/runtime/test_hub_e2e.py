"""The whole hub on Ray against the emulator set over HTTP: pulled, decided once,
dispatched, shipped with a tracking number, anomalies held and alerted."""

import time
from datetime import timedelta

import httpx
import pytest

from hub.clock import ScaledClock
from hub.config import HubSettings
from hub.domain.order import Buyer, Receiver
from hub.ledger import open_ledger
from hub.runtime import Hub
from sim.emulators.suite import EmulatorSuite, SuiteConfig
from sim.emulators.warehouse import ServiceTimes, WmsConfig
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace
from tests.factories import T0, order

pytestmark = pytest.mark.ray
PREFIX = {"tmall": "T", "jd": "J", "douyin": "D"}
NO_DISTRICT = Receiver(name="王五", phone="13900001111", province="浙江省", city="杭州市",
                       district="", street="", detail="杭州市")


def _trace(path, n_per_channel: int = 60):
    events = []
    for channel, prefix in PREFIX.items():
        for i in range(n_per_channel):
            at = 5.0 + i * 4
            changes = {"receiver": NO_DISTRICT} if i % 20 == 7 else {}
            o = order(i, channel=channel, shop=f"{channel}-shop", order_id=f"{prefix}{i:05d}",
                      created_at=T0 + timedelta(seconds=at - 20),
                      buyer=Buyer(id=f"{channel}-buyer-{i}"), **changes)
            o = o.model_copy(update={"modified_at": T0 + timedelta(seconds=at)})
            events.append(TraceEvent(at=at, kind=EventKind.PAID, order=o,
                                     truth=("incomplete_address",) if changes else ()))
    events.sort(key=lambda e: e.at)
    write_trace(path, TraceHeader("e2e", 1, T0, ("00:00", "00:10")), events)
    return events


def test_hub_pulls_decides_dispatches_ships_and_alerts(ray_session, tmp_path) -> None:
    events = _trace(tmp_path / "trace.jsonl")
    speedup = 30.0
    clock = ScaledClock(T0, speedup, wall_origin=time.time() + 3)
    quick = ServiceTimes(pick_s=5, pack_s=5, ship_s=10)
    wms = WmsConfig(default_workers=50, service={lane: quick for lane in ("P0", "P1", "P2", "P3")})
    suite = EmulatorSuite(SuiteConfig(trace=tmp_path / "trace.jsonl", speedup=speedup, wms=wms),
                          clock=clock).start()
    try:
        wiring = suite.hub_settings()
        for channel in wiring["channels"]:
            channel |= {"interval_s": 30, "overlap_s": 60, "page_size": 100}
        settings = HubSettings(**wiring, ledger=str(tmp_path / "hub.sqlite3"),
                               reconcile_interval_s=3600)
        settings.api.port = 0
        hub = Hub(settings, clock, start_at=T0).start()
        try:
            ledger = open_ledger(settings.ledger)
            deadline = time.monotonic() + 90
            shipped = 0
            while time.monotonic() < deadline:
                stages = ledger.counts()["stages"]
                shipped = stages.get("shipped", 0)
                if shipped + stages.get("held", 0) == len(events):
                    break
                time.sleep(0.5)
            stages = ledger.counts()["stages"]
            held = [e for e in events if e.truth]
            reasons = {a["reason"]: a["count"] for a in ledger.open_anomalies()}
            assert reasons == {"incomplete_address": len(held)}, reasons
            assert stages.get("held", 0) == len(held), stages
            assert shipped == len(events) - len(held), stages
            view = ledger.get_order(("jd", "jd-shop", "J00003"))
            assert view.tracking_no
            assert [e.stage for e in view.timeline if e.stage in ("routed", "held")] == ["routed"]
            messages = httpx.get(suite["dingtalk"] + "/_messages").json()["messages"]
            assert messages, "held orders were alerted"
            assert len(messages) <= 20
            stats = hub.stats()
            assert stats["router"]["decided"] == len(events)
        finally:
            hub.stop()
    finally:
        suite.stop()
