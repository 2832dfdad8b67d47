"""WMS emulator over real HTTP on loopback, driven by a ManualClock."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from hub.clock import Clock, ManualClock
from hub.connectors.backoffice import BackOfficeRejected, BackOfficeUnavailable
from hub.connectors.wms import WmsClient
from hub.domain.order import SHANGHAI
from sim.emulators.backoffice import OutageWindow
from sim.emulators.server import LoopbackServer
from sim.emulators.warehouse import ServiceTimes
from sim.emulators.wms import WmsConfig, WmsEmulator
from tests.sim.backoffice_helpers import Blocking, local_sync_http

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
SLOW = ServiceTimes(pick_s=60, pack_s=120, ship_s=600)


def line(n: int, **changes) -> dict:
    row = {"key": f"wms:tmall:flagship:T{n}", "channel": "tmall", "shop": "flagship",
           "order_id": f"T{n}", "lane": "P2", "packing_group": "lane-P2",
           "delivery": "standard", "items": [{"sku": "SKU-1", "quantity": 1}]}
    return row | changes


def config(**changes) -> WmsConfig:
    return WmsConfig(service={lane: SLOW for lane in ("P0", "P1", "P2", "P3")}, **changes)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with local_sync_http() as client:
        yield client


@contextmanager
def serving(clock: Clock, cfg: WmsConfig, **kwargs) -> Iterator[tuple[WmsEmulator, Blocking]]:
    with WmsEmulator(clock, cfg, **kwargs) as wms, Blocking(WmsClient, wms.url) as client:
        yield wms, client


def stages(client: Blocking, *numbers: int) -> dict[str, str]:
    found = client.status_of([("tmall", "flagship", f"T{n}") for n in numbers])
    return {key[2]: stage for key, stage in found.items()}


def test_dispatch_is_idempotent_by_key(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    with serving(clock, config()) as (wms, client):
        first = client.dispatch([line(1), line(2), line(3)])
        again = client.dispatch([line(1), line(2), line(3)])
        other_key = client.dispatch([line(2, key="another-key-same-order")])
        stats = http.get(f"{wms.url}/_stats").json()
    assert [r["status"] for r in first] == ["accepted"] * 3
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [r["wms_order_no"] for r in again] == [r["wms_order_no"] for r in first]
    # a new key for an order already held is a second warehouse order (contract §1)
    assert other_key[0]["status"] == "accepted"
    assert other_key[0]["wms_order_no"] != first[1]["wms_order_no"]
    assert stats["wms"]["orders"] == 4
    assert stats["wms"]["counts"]["duplicates"] == 3
    assert stats["wms"]["counts"]["second_orders"] == 1


def test_order_reaches_shipped_with_tracking_number(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    with serving(clock, config()) as (wms, client):
        client.dispatch([line(1, delivery="express")])
        seen = [stages(client, 1)["T1"]]
        for step in (60, 120, 600):
            clock.advance(step)
            seen.append(stages(client, 1)["T1"])
        view = http.get(f"{wms.url}/orders/tmall/T1", params={"shop": "flagship"}).json()

        seq, events = client.status_since(0)
        seq_after, none_after = client.status_since(seq)
    assert seen == ["dispatched", "picked", "packed", "shipped"]
    assert re.fullmatch(r"SF\d{12}", view["tracking_no"]), view["tracking_no"]
    assert view["carrier"] == "SF"
    assert view["times"]["shipped"] == "2026-11-11T00:13:00+08:00"
    assert [e["stage"] for e in events] == ["picked", "packed", "shipped"]
    assert [e["seq"] for e in events] == [1, 2, 3] and seq == 3
    assert events[-1]["tracking_no"] == view["tracking_no"]
    assert (seq_after, none_after) == (3, [])


def test_capacity_limits_queueing_and_lanes_go_first(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    cfg = config(workers={"narrow": 1, "wide": 3})
    with serving(clock, cfg) as (wms, client):
        client.dispatch([line(n, packing_group="narrow") for n in (1, 2, 3)] +
                     [line(n, packing_group="wide") for n in (4, 5, 6)])
        client.dispatch([line(7, packing_group="narrow", lane="P0")])
        clock.advance(60)
        after_one_pick = stages(client, *range(1, 8))
        clock.advance(180)  # T1 packed at 180 frees the worker; T7 (P0) goes next
        after_first_pack = stages(client, 2, 3, 7)
        views = http.post(f"{wms.url}/orders/lookup",
                           json={"orders": [["tmall", "flagship", "T7"]]}).json()["orders"]
        work = http.get(f"{wms.url}/_stats").json()["wms"]
    assert after_one_pick == {"T1": "picked", "T2": "dispatched", "T3": "dispatched",
                              "T4": "picked", "T5": "picked", "T6": "picked",
                              "T7": "dispatched"}
    assert after_first_pack == {"T2": "dispatched", "T3": "dispatched", "T7": "picked"}
    assert views[0]["times"]["picked"] == "2026-11-11T00:04:00+08:00"  # 180 + 60
    assert work["busy"] == {"narrow": 1}  # the wide group packed T4-T6 at 180 s
    assert work["waiting"] == {"narrow": 2}


def test_first_come_first_served_when_priority_is_off() -> None:
    clock = ManualClock(T0)
    with serving(clock, config(workers={"narrow": 1}, priority=False)) as (_, client):
        client.dispatch([line(1, packing_group="narrow"), line(2, packing_group="narrow"),
                               line(3, packing_group="narrow", lane="P0")])
        clock.advance(180 + 60)
        found = stages(client, 2, 3)
    assert found == {"T2": "picked", "T3": "dispatched"}


class Receiver:
    """A stand-in hub status endpoint: refuses the first ``fail`` posts with 503."""

    def __init__(self, fail: int = 1) -> None:
        self.fail, self.posts, self.events = fail, 0, []
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/wms/status")
        async def status(request: Request) -> Response:
            body = await request.json()
            with self.lock:
                self.posts += 1
                if self.posts <= self.fail:
                    return Response(status_code=503)
                self.events.extend(body["events"])
            return Response(b'{"recorded": 1}', media_type="application/json")


def test_status_callback_delivered_after_a_refused_post(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    receiver = Receiver(fail=1)
    with LoopbackServer(receiver.app, name="hub") as hub:
        cfg = config(callback_url=f"{hub.url}/wms/status", callback_poll_s=0.02)
        with serving(clock, cfg) as (wms, client):
            wms.callback.retry_base_s = 0.01
            client.dispatch([line(1), line(2)])
            clock.advance(3600)
            assert wms.callback.drain(timeout_s=10)
            stats = http.get(f"{wms.url}/_stats").json()
    assert receiver.posts >= 2
    got = sorted((e["order_id"], e["stage"]) for e in receiver.events)
    assert got == sorted((f"T{n}", s) for n in (1, 2) for s in ("picked", "packed", "shipped"))
    shipped = [e for e in receiver.events if e["stage"] == "shipped"]
    assert all(e["tracking_no"].startswith("YT") for e in shipped)
    assert stats["stats"]["callback_events"] == 6
    assert stats["errors"]["callback"] >= 1


def test_outage_windows_answer_503(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    cfg = config(outages=[OutageWindow(start_s=60, duration_s=120)])
    with serving(clock, cfg, origin=T0) as (wms, client):
        client.dispatch([line(1)])
        clock.advance(61)
        with pytest.raises(BackOfficeUnavailable) as down:
            client.dispatch([line(2)])
        clock.advance(120)
        after = client.dispatch([line(2)])
        switched = http.post(f"{wms.url}/_control/faults",
                              json={"kind": "outage", "duration_s": 30})
        during = http.get(f"{wms.url}/orders/status")
        wrong_kind = http.post(f"{wms.url}/_control/faults", json={"kind": "throttle"})
        http.delete(f"{wms.url}/_control/faults")
        healed = http.get(f"{wms.url}/orders/status")
        errors = http.get(f"{wms.url}/_stats").json()["errors"]
    assert down.value.status == 503 and down.value.retryable
    assert after[0]["status"] == "accepted"
    assert switched.status_code == 200 and during.status_code == 503
    assert wrong_kind.status_code == 400 and "faults[0].kind" in wrong_kind.json()["problems"][0]
    assert healed.status_code == 200
    assert errors["outage"] == 2


def test_planted_mismatches_for_the_reconciler(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    with serving(clock, config()) as (wms, client):
        client.dispatch([line(1), line(2)])
        ghost = http.post(f"{wms.url}/_control/plant", json={
            "kind": "shipped", "channel": "tmall", "shop": "flagship", "order_id": "T9"}).json()
        dropped = http.post(f"{wms.url}/_control/plant", json={
            "kind": "drop", "channel": "tmall", "shop": "flagship", "order_id": "T2"}).json()
        found = stages(client, 1, 2, 9)
        events = http.get(f"{wms.url}/orders/status").json()["events"]
        clock.advance(3600)  # the dropped order's work stops with it
        later = stages(client, 1, 2)
    assert ghost["stage"] == "shipped" and ghost["planted"] == "shipped"
    assert ghost["tracking_no"].startswith("YT")
    assert dropped == {"dropped": True}
    assert found == {"T1": "dispatched", "T9": "shipped"}
    assert events == []  # a planted ship is silent unless asked to report
    assert later == {"T1": "shipped"}


def test_bad_lines_are_refused_with_their_field_and_the_rest_taken(http: httpx.Client) -> None:
    clock = ManualClock(T0)
    with serving(clock, config()) as (wms, client):
        bad = line(2)
        del bad["order_id"]
        with pytest.raises(BackOfficeRejected) as refused:
            client.dispatch([line(1), bad])
        found = stages(client, 1)
        not_json = http.post(f"{wms.url}/orders/dispatch", content=b"{nope")
    assert refused.value.rejected == ["wms:tmall:flagship:T2"]
    assert "orders[1].order_id" in refused.value.problems[0]
    assert found == {"T1": "dispatched"}
    assert not_json.status_code == 400 and "<body>" in not_json.json()["problems"][0]


def test_work_runs_on_without_calls_when_the_clock_is_scaled() -> None:
    from hub.clock import ScaledClock

    clock = ScaledClock(T0, speedup=3000.0)  # the whole 780 s of work in ~0.26 s of wall
    with serving(clock, config()) as (_, client):
        client.dispatch([line(1)])
        deadline = time.monotonic() + 5
        while stages(client, 1)["T1"] != "shipped" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stages(client, 1)["T1"] == "shipped"
