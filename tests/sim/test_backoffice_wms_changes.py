"""The WMS emulator after routing (issue #20), over real HTTP on loopback: intercept and
amend succeed only before its own work model packs the order, are idempotent by key;
a second key for one order makes a second warehouse order; packing-group shifts hold
work back; the warehouse's clock can run faster (issue #19)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from pydantic import ValidationError

from hub.clock import ManualClock
from hub.connectors.wms import WmsClient
from hub.domain.order import SHANGHAI
from sim.emulators.crews import PackingGroup
from sim.emulators.server import LoopbackServer
from sim.emulators.warehouse import ServiceTimes, WmsState
from sim.emulators.wms import WmsConfig, WmsEmulator
from tests.sim.backoffice_helpers import Blocking, local_sync_http
from tests.sim.test_backoffice_wms import Receiver

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
SLOW = ServiceTimes(pick_s=60, pack_s=120, ship_s=600)  # picked 60, packed 180, shipped 780
RECEIVER = {"name": "张三", "phone": "13812345678", "province": "浙江省", "city": "杭州市",
            "district": "西湖区", "street": "西溪街道", "detail": "文三路100号5幢301室"}
MOVED = RECEIVER | {"district": "拱墅区", "detail": "湖墅南路1号"}


def line(n: int, **changes) -> dict:
    row = {"key": f"wms:tmall:flagship:T{n}", "channel": "tmall", "shop": "flagship",
           "order_id": f"T{n}", "lane": "P2", "packing_group": "lane-P2",
           "delivery": "standard", "items": [{"sku": "SKU-1", "quantity": 1}],
           "receiver": RECEIVER, "ship_by": "2026-11-13T00:00:00+08:00"}
    return row | changes


def change(n: int, key: str, **more) -> dict:
    return {"key": key, "channel": "tmall", "shop": "flagship", "order_id": f"T{n}", **more}


def config(**changes) -> WmsConfig:
    return WmsConfig(service={lane: SLOW for lane in ("P0", "P1", "P2", "P3")}, **changes)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with local_sync_http() as client:
        yield client


class Wms:
    """A served WMS on a manual clock, and calls to it over HTTP."""

    def __init__(self, http: httpx.Client, cfg: WmsConfig | None = None) -> None:
        self.http, self.clock = http, ManualClock(T0)
        self.emu = WmsEmulator(self.clock, cfg or config()).start()
        self.client = Blocking(WmsClient, self.emu.url)

    def post(self, path: str, orders: list[dict]) -> list[dict]:
        answer = self.http.post(f"{self.emu.url}{path}", json={"orders": orders})
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]

    def records(self) -> dict:
        return self.http.get(f"{self.emu.url}/_records").json()

    def close(self) -> None:
        self.client.close()
        self.emu.stop()


@pytest.fixture
def wms(http: httpx.Client) -> Iterator[Wms]:
    served = Wms(http)
    yield served
    served.close()


def shipped(records: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for shipment in records["shipments"]:
        out.setdefault(shipment["order_id"], []).append(shipment)
    return out


def test_intercept_before_packing_stops_the_order_and_frees_its_worker(http) -> None:
    wms = Wms(http, config(workers={"lane-P2": 1}))
    try:
        wms.client.dispatch([line(1), line(2)])
        wms.clock.advance(90)  # T1 picked at 60, being packed; T2 waits for the worker
        first = wms.post("/orders/intercept", [change(1, "icpt-1", reason="cancelled")])
        wms.clock.advance(60)  # T2 starts at 90 (not at 180): picked at 150
        t2 = wms.client.lookup([("tmall", "flagship", "T2")])[0]
        wms.clock.advance(3600)
        records = wms.records()
        _, events = wms.client.status_since(0)
    finally:
        wms.close()
    assert first == [{"key": "icpt-1", "channel": "tmall", "shop": "flagship",
                      "order_id": "T1", "status": "intercepted", "stage": "intercepted",
                      "wms_orders": [{"wms_order_no": "WMS000000001",
                                      "stage": "intercepted"}]}]
    assert t2["times"]["picked"] == "2026-11-11T00:02:30+08:00"
    assert list(shipped(records)) == ["T2"]
    t1 = next(o for o in records["orders"] if o["order_id"] == "T1")
    assert t1["intercepted_at"] == "2026-11-11T00:01:30+08:00"
    assert t1["picked_at"] is not None and t1["packed_at"] is None
    assert t1["shipped_at"] is None and t1["tracking_no"] is None
    # the status feed keeps to picked / packed / shipped
    assert {e["stage"] for e in events} == {"picked", "packed", "shipped"}
    assert {(e["order_id"], e["stage"]) for e in events if e["order_id"] == "T1"} == {
        ("T1", "picked")}


def test_intercept_after_packing_is_too_late_and_the_order_ships(wms: Wms) -> None:
    wms.client.dispatch([line(1)])
    wms.clock.advance(200)  # packed at 180
    late = wms.post("/orders/intercept", [change(1, "icpt-1", reason="cancelled")])
    again = wms.post("/orders/intercept", [change(1, "icpt-1", reason="cancelled")])
    wms.clock.advance(3600)
    records = wms.records()
    assert late[0]["status"] == "too_late" and late[0]["stage"] == "packed"
    assert again[0]["status"] == "duplicate" and again[0]["first_status"] == "too_late"
    assert [s["order_id"] for s in records["shipments"]] == ["T1"]


def test_intercept_is_idempotent_by_key_and_unknown_orders_say_so(wms: Wms) -> None:
    wms.client.dispatch([line(1)])
    first = wms.post("/orders/intercept", [change(1, "icpt-1"), change(9, "icpt-9")])
    wms.clock.advance(3600)
    again = wms.post("/orders/intercept", [change(1, "icpt-1")])
    other_key = wms.post("/orders/intercept", [change(1, "icpt-1b")])
    records = wms.records()
    assert [r["status"] for r in first] == ["intercepted", "unknown"]
    assert first[1]["stage"] is None
    assert again[0]["status"] == "duplicate" and again[0]["first_status"] == "intercepted"
    assert other_key[0]["status"] == "intercepted"  # it stays stopped: it never ships
    assert records["shipments"] == []
    ops = [(r["op"], len(r["orders"])) for r in records["requests"]]
    assert ("intercept", 2) in ops and ops.count(("intercept", 1)) == 2


def test_amend_before_packing_changes_what_ships(wms: Wms) -> None:
    wms.client.dispatch([line(1), line(2)])
    wms.clock.advance(100)  # both picked, being packed
    items = [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}]
    done = wms.post("/orders/amend", [change(1, "amend-1", receiver=MOVED),
                                      change(2, "amend-2", items=items)])
    again = wms.post("/orders/amend", [change(1, "amend-1", receiver=RECEIVER)])
    wms.clock.advance(3600)
    records = wms.records()
    assert [r["status"] for r in done] == ["amended", "amended"]
    assert again[0]["status"] == "duplicate" and again[0]["first_status"] == "amended"
    ships = shipped(records)
    assert ships["T1"][0]["receiver"] == MOVED  # the duplicate changed nothing
    assert ships["T1"][0]["items"] == [{"sku": "SKU-1", "quantity": 1}]
    assert ships["T2"][0]["items"] == items and ships["T2"][0]["receiver"] == RECEIVER
    t1 = next(o for o in records["orders"] if o["order_id"] == "T1")
    assert t1["amendments"] == [{"at": "2026-11-11T00:01:40+08:00", "key": "amend-1",
                                 "receiver": MOVED, "items": None}]


def test_amend_after_packing_is_too_late_and_the_old_address_ships(wms: Wms) -> None:
    wms.client.dispatch([line(1)])
    wms.clock.advance(180)  # packed exactly now
    late = wms.post("/orders/amend", [change(1, "amend-1", receiver=MOVED)])
    unknown = wms.post("/orders/amend", [change(7, "amend-7", receiver=MOVED)])
    empty = wms.post("/orders/amend", [change(1, "amend-x")])
    wms.clock.advance(3600)
    ships = shipped(wms.records())
    assert late[0]["status"] == "too_late" and late[0]["stage"] == "packed"
    assert unknown[0]["status"] == "unknown"
    assert empty[0]["status"] == "rejected" and "receiver or items" in empty[0]["reason"]
    assert ships["T1"][0]["receiver"] == RECEIVER


def test_a_second_key_for_one_order_makes_two_warehouse_orders_and_two_shipments(
        wms: Wms) -> None:
    first = wms.client.dispatch([line(1)])
    second = wms.client.dispatch([line(1, key="wms:tmall:flagship:T1:resent")])
    views = wms.client.lookup([("tmall", "flagship", "T1")])
    wms.clock.advance(3600)
    records = wms.records()
    assert first[0]["status"] == second[0]["status"] == "accepted"
    assert first[0]["wms_order_no"] != second[0]["wms_order_no"]
    assert len(views) == 2
    assert [o["order_id"] for o in records["orders"]] == ["T1", "T1"]
    ships = shipped(records)["T1"]
    assert len(ships) == 2 and ships[0]["tracking_no"] != ships[1]["tracking_no"]


def test_intercept_stops_every_warehouse_order_not_yet_packed(wms: Wms) -> None:
    wms.client.dispatch([line(1)])
    wms.clock.advance(200)  # the first is packed
    wms.client.dispatch([line(1, key="again")])
    answer = wms.post("/orders/intercept", [change(1, "icpt-1")])
    wms.clock.advance(3600)
    records = wms.records()
    assert answer[0]["status"] == "too_late"  # one of them will ship
    assert [o["stage"] for o in answer[0]["wms_orders"]] == ["packed", "intercepted"]
    assert len(records["shipments"]) == 1


# -- shifts ------------------------------------------------------------------------------
def test_shifts_parse_and_bad_ones_are_refused_by_field() -> None:
    crew = PackingGroup(workers=0, shifts=[["22:00", "06:00"]])
    assert crew.spans() == [(1320, 1440), (0, 360)]
    for bad, words in (([["8:0", "12:00"]], "shifts[0]"), ([["08:00", "08:00"]], "shifts[0]"),
                       ([["08:00", "25:00"]], "time of day")):
        with pytest.raises(ValidationError, match=words.replace("[", r"\[")):
            PackingGroup(workers=1, shifts=bad)
    with pytest.raises(ValidationError, match="workers"):
        PackingGroup(workers=-1)
    with pytest.raises(ValidationError, match="also in workers"):
        WmsConfig(workers={"g": 1}, groups={"g": {"workers": 1}})


def test_a_queue_builds_when_the_shift_ends_and_drains_when_the_next_begins() -> None:
    clock = ManualClock(datetime(2026, 11, 11, 19, 50, tzinfo=SHANGHAI))
    crew = {"workers": 2, "shifts": [["08:00", "20:00"]]}
    wms = WmsState(clock, config(groups={"lane-P2": crew}))
    wms.dispatch([line(n) for n in range(1, 11)])  # two at a time, 180 s each
    clock.advance(11 * 60)  # 20:01: T7, T8 started at 19:59 and are still worked
    at_end = wms.snapshot()
    clock.advance(2 * 60)  # 20:03: they finished; nothing new started
    after_end = wms.snapshot()
    clock.advance(11 * 3600 + 56 * 60)  # 07:59 next day
    before_dawn = wms.snapshot()
    clock.advance(6 * 60)  # 08:05
    morning = wms.snapshot()
    views = {v["order_id"]: v["times"] for v in wms.lookup(
        [("tmall", "flagship", f"T{n}") for n in range(1, 11)])}
    assert at_end["busy"] == {"lane-P2": 2} and at_end["waiting"] == {"lane-P2": 2}
    assert views["T7"]["packed"] == "2026-11-11T20:02:00+08:00"  # work in progress ends
    assert after_end["busy"] == {} and after_end["waiting"] == {"lane-P2": 2}
    assert before_dawn["waiting"] == {"lane-P2": 2}
    assert morning["waiting"] == {}
    assert views["T9"]["picked"] == views["T10"]["picked"] == "2026-11-12T08:01:00+08:00"


def test_a_group_with_no_workers_never_starts_and_others_are_not_held() -> None:
    clock = ManualClock(T0)
    wms = WmsState(clock, config(groups={"closed": {"workers": 0}}, default_workers=1))
    wms.dispatch([line(1, packing_group="closed"), line(2)])
    clock.advance(2 * 86400)
    found = {v["order_id"]: v["stage"] for v in wms.lookup(
        [("tmall", "flagship", "T1"), ("tmall", "flagship", "T2")])}
    assert found == {"T1": "dispatched", "T2": "shipped"}


# -- the warehouse's clock ------------------------------------------------------------------
def test_fast_forward_runs_the_warehouse_faster_and_reports_its_own_times(http) -> None:
    clock = ManualClock(T0)
    receiver = Receiver(fail=0)
    with LoopbackServer(receiver.app, name="hub") as hub:
        cfg = config(callback_url=f"{hub.url}/wms/status", callback_poll_s=0.02)
        with WmsEmulator(clock, cfg) as emu, Blocking(WmsClient, emu.url) as client:
            client.dispatch([line(1)])
            clock.advance(60)  # picked at 00:01:00 on both clocks
            warp = http.post(f"{emu.url}/_control/clock", json={"factor": 10})
            refused = http.post(f"{emu.url}/_control/clock", json={"factor": 0})
            clock.advance(72)  # 720 s for the warehouse: packed and shipped
            stage = client.status_of([("tmall", "flagship", "T1")])
            assert emu.callback.drain(timeout_s=10)
            records = emu.records()
    assert warp.status_code == 200 and warp.json()["clock"]["factor"] == 10.0
    assert refused.status_code == 400
    assert stage == {("tmall", "flagship", "T1"): "shipped"}
    times = {e["stage"]: e["at"] for e in receiver.events}
    assert times == {"picked": "2026-11-11T00:01:00+08:00",
                     "packed": "2026-11-11T00:03:00+08:00",
                     "shipped": "2026-11-11T00:13:00+08:00"}
    assert records["shipments"][0]["shipped_at"] == times["shipped"]
    assert clock.now().isoformat() == "2026-11-11T00:02:12+08:00"  # the suite's clock


def test_fast_forward_on_a_scaled_clock_finishes_in_wall_time() -> None:
    from hub.clock import ScaledClock

    clock = ScaledClock(T0, speedup=60.0)  # 780 s of work would take 13 s of wall
    with WmsEmulator(clock, config()) as emu, Blocking(WmsClient, emu.url) as client:
        client.dispatch([line(1)])
        emu.fast_forward(100.0)
        deadline = time.monotonic() + 5
        while client.status_of([("tmall", "flagship", "T1")]).get(
                ("tmall", "flagship", "T1")) != "shipped" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.records()["shipments"][0]["order_id"] == "T1"
