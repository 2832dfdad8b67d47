"""The emulators' own records (issue #19, contract §2), over real HTTP on 127.0.0.1 and
written by the suite to ``records/<name>.json``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from hub.clock import ManualClock
from hub.connectors.dingtalk import DingTalkRobot
from hub.connectors.wms import WmsClient
from hub.domain.order import SHANGHAI
from sim.emulators.suite import EmulatorSuite, SuiteConfig
from sim.emulators.warehouse import ServiceTimes
from sim.emulators.wms import WmsConfig, WmsEmulator
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace
from tests.factories import order
from tests.sim.backoffice_helpers import Blocking, local_sync_http

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
HTTP = local_sync_http()
RECEIVER = {"name": "张三", "phone": "13812345678", "province": "浙江省", "city": "杭州市",
            "district": "西湖区", "street": "西溪街道", "detail": "文三路100号5幢301室"}
ORDER_FIELDS = {"wms_order_no", "key", "channel", "shop", "order_id", "lane", "packing_group",
                "delivery", "items", "receiver", "accepted_at", "picked_at", "packed_at",
                "shipped_at", "intercepted_at", "tracking_no", "carrier", "ship_by",
                "amendments"}
SHIPMENT_FIELDS = {"wms_order_no", "channel", "shop", "order_id", "tracking_no", "carrier",
                   "shipped_at", "items", "receiver"}


def line(n: int, **changes) -> dict:
    row = {"key": f"wms:tmall:flagship:T{n}", "channel": "tmall", "shop": "flagship",
           "order_id": f"T{n}", "lane": "P1", "packing_group": "lane-P1",
           "delivery": "express", "items": [{"sku": "LAMP-1", "quantity": 2}],
           "receiver": RECEIVER, "carrier": "SF", "ship_by": "2026-11-12T00:00:00+08:00"}
    return row | changes


def test_wms_records_every_request_order_and_shipment() -> None:
    clock = ManualClock(T0)
    fast = ServiceTimes(pick_s=60, pack_s=60, ship_s=60)
    with WmsEmulator(clock, WmsConfig(service={"P1": fast})) as wms, \
            Blocking(WmsClient, wms.url) as client:
        client.dispatch([line(1), line(2)])
        clock.advance(30)
        HTTP.post(f"{wms.url}/orders/intercept", json={"orders": [
            {"key": "icpt:T2", "channel": "tmall", "shop": "flagship", "order_id": "T2",
             "reason": "cancelled"}]})
        clock.advance(600)
        client.status_since(0)
        client.lookup([("tmall", "flagship", "T1"), ("tmall", "flagship", "T9")])
        HTTP.post(f"{wms.url}/_control/faults", json={"kind": "5xx", "count": 1})
        HTTP.post(f"{wms.url}/orders/dispatch", json={"orders": [line(3)]})
        records = HTTP.get(f"{wms.url}/_records").json()
    requests = records["requests"]
    assert [(r["seq"], r["op"]) for r in requests] == [
        (1, "dispatch"), (2, "intercept"), (3, "status"), (4, "lookup"), (5, "dispatch")]
    dispatch = requests[0]
    assert dispatch["at"] == T0.isoformat()
    assert dispatch["orders"] == [line(1), line(2)]  # as sent
    assert [r["status"] for r in dispatch["results"]] == ["accepted", "accepted"]
    assert requests[1]["results"][0]["status"] == "intercepted"
    assert requests[2]["orders"] == [] and requests[2]["n"] == 3  # counts, not bodies
    assert requests[3]["n"] == 2
    assert requests[4]["refused"] == 503 and requests[4]["results"] == []
    t1, t2 = records["orders"]
    assert set(t1) >= ORDER_FIELDS
    assert (t1["receiver"], t1["items"], t1["carrier"], t1["ship_by"]) == (
        RECEIVER, [{"sku": "LAMP-1", "quantity": 2}], "SF", "2026-11-12T00:00:00+08:00")
    assert (t1["accepted_at"], t1["picked_at"], t1["packed_at"], t1["shipped_at"]) == (
        "2026-11-11T00:00:00+08:00", "2026-11-11T00:01:00+08:00",
        "2026-11-11T00:02:00+08:00", "2026-11-11T00:03:00+08:00")
    assert t2["intercepted_at"] == "2026-11-11T00:00:30+08:00" and t2["shipped_at"] is None
    [shipment] = records["shipments"]
    assert set(shipment) >= SHIPMENT_FIELDS
    assert shipment["order_id"] == "T1" and shipment["tracking_no"] == t1["tracking_no"]
    assert shipment["tracking_no"].startswith("SF") and shipment["receiver"] == RECEIVER


def test_the_suite_writes_every_emulators_records(tmp_path: Path) -> None:
    paid = order(1, status="paid")
    trace = tmp_path / "trace.jsonl"
    write_trace(trace, TraceHeader("tiny", 1, T0), [
        TraceEvent(1.0, EventKind.CREATED, order(1, status="unpaid")),
        TraceEvent(5.0, EventKind.PAID, paid),
        TraceEvent(9.0, EventKind.CANCELLED, order(1, status="cancelled"))])
    clock = ManualClock(T0)
    config = SuiteConfig(trace=trace, dingtalk={"business_time": True})
    with EmulatorSuite(config, clock=clock) as suite:
        clock.advance(10)
        with Blocking(WmsClient, suite["wms"]) as wms:
            wms.dispatch([line(1)])
        robot = suite.config.dingtalk.robots[0]
        with Blocking(DingTalkRobot, suite["dingtalk"], robot.access_token.get_secret_value(),
                      robot.secret.get_secret_value(),
                      now_ms=lambda: int(clock.now().timestamp() * 1000)) as ops:
            ops.send_text("- tmall T100001 (P1): payment_mismatch")
        warped = suite.fast_forward_warehouse(60.0)
        clock.advance(60)  # an hour for the warehouse
        served = {name: HTTP.get(f"{url}/_records").json() for name, url in suite.urls.items()}
    written = suite.write_records(tmp_path / "out")
    assert set(written) == {"wms", "erp", "crm", "dingtalk", "tmall", "jd", "douyin"}
    assert all(p == tmp_path / "out" / "records" / f"{n}.json" for n, p in written.items())
    on_disk = {name: orjson.loads(path.read_bytes()) for name, path in written.items()}
    assert on_disk["tmall"]["changes"] == served["tmall"]["changes"]
    assert [c["event"] for c in on_disk["tmall"]["changes"]] == ["created", "paid",
                                                                 "cancelled"]
    assert on_disk["jd"] == {"changes": [], "pages": []}
    assert on_disk["dingtalk"]["messages"][0]["accepted"]
    assert on_disk["dingtalk"]["messages"][0]["at"] == "2026-11-11T00:00:10+08:00"
    assert warped.isoformat() == "2026-11-11T00:00:10+08:00"
    [shipment] = on_disk["wms"]["shipments"]  # shipped on the warehouse's fast clock
    # P1 by default: picked 90 s, packed 120 s later, the carrier 900 s after that
    assert shipment["shipped_at"] == "2026-11-11T00:18:40+08:00"
    assert on_disk["erp"]["requests"][0]["op"] == "wms_dispatch"
    assert on_disk["crm"] == {"requests": []}
