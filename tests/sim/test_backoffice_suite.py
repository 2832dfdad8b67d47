"""The whole emulator set: started and stopped together, wired to one clock and one
trace; ``orderhub emulate`` serves it from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from hub.clock import ManualClock
from hub.config import ConfigError, HubSettings
from hub.domain.order import SHANGHAI, Buyer, Item
from sim.emulators.server import LoopbackServer
from sim.emulators.suite import EmulatorSuite, SuiteConfig, load_suite_config
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace
from tests.factories import order
from tests.sim.backoffice_helpers import local_sync_http

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)

HTTP = local_sync_http()  # one pool for the whole module


def test_suite_starts_everything_and_stops_it() -> None:
    with EmulatorSuite() as suite:
        urls = suite.urls
        health = {name: HTTP.get(f"{url}/healthz").json()["status"]
                  for name, url in urls.items()}
        stats = suite.stats()
        settings = HubSettings(**suite.hub_settings())
    assert set(urls) == {"wms", "erp", "crm", "dingtalk", "tmall", "jd", "douyin"}
    assert len(set(urls.values())) == 7
    assert all(u.startswith("http://127.0.0.1:") for u in urls.values())
    assert health == dict.fromkeys(urls, "ok")
    assert stats["wms"]["emulator"] == "wms" and stats["tmall"]["channel"] == "tmall"
    assert settings.back_office.wms_url == urls["wms"]
    assert settings.dingtalk.url == urls["dingtalk"]
    assert settings.dingtalk.secret.get_secret_value() == "SECdemo-secret"
    assert [c.base_url for c in settings.channels] == [urls[c] for c in ("tmall", "jd",
                                                                         "douyin")]
    for url in urls.values():
        with pytest.raises(httpx.ConnectError):
            HTTP.get(f"{url}/healthz", timeout=2)


def test_suite_replays_a_trace_and_seeds_crm_and_erp(tmp_path: Path) -> None:
    vip = order(1, buyer=Buyer(id="buyer-vip", tier="plus", tags=("new_first_order",)),
                items=(Item(sku="LAMP-9", quantity=2, price_fen=100),))
    jd = order(2, channel="jd", order_id="J2")
    trace = tmp_path / "trace.jsonl"
    write_trace(trace, TraceHeader("tiny", 1, T0), [
        TraceEvent(at=10, kind=EventKind.CREATED, order=vip),
        TraceEvent(at=20, kind=EventKind.CREATED, order=jd)])
    clock = ManualClock(T0 + timedelta(minutes=1))
    config = SuiteConfig(trace=trace, only=["crm", "erp", "wms", "tmall", "jd"],
                         erp={"default_stock": 50, "stock": {"LAMP-9": 3}})
    with EmulatorSuite(config, clock=clock) as suite:
        tmall_orders = [o.order_id for o in suite.states["tmall"].orders()]
        jd_orders = [o.order_id for o in suite.states["jd"].orders()]
        crm = HTTP.post(f"{suite['crm']}/customers/lookup",
                         json={"buyer_ids": ["buyer-vip"]}).json()["customers"]
        stock = HTTP.get(f"{suite['erp']}/inventory").json()["items"]
        HTTP.post(f"{suite['wms']}/orders/dispatch", json={"orders": [{
            "key": "k1", "channel": "tmall", "shop": "flagship", "order_id": vip.order_id,
            "items": [{"sku": "LAMP-9", "quantity": 2}]}]})
        after = HTTP.get(f"{suite['erp']}/inventory", params={"sku": "LAMP-9"}).json()
    assert sorted(suite.urls) == ["crm", "erp", "jd", "tmall", "wms"]
    assert tmall_orders == [vip.order_id] and jd_orders == ["J2"]
    assert crm["buyer-vip"] == {"tier": "plus", "tags": ["new_first_order"], "known": True}
    levels = {r["sku"]: r["available"] for r in stock}
    assert levels["LAMP-9"] == 3  # the config wins over default_stock
    assert levels[jd.items[0].sku] == 50
    assert after["items"][0]["available"] == 1  # the WMS's dispatch drew the ERP's stock


def test_suite_with_a_hub_pushes_orders_and_wms_status_to_it(tmp_path: Path) -> None:
    received: dict[str, list] = {"push": [], "status": []}
    hub = FastAPI()

    @hub.post("/push/{channel}")
    async def push(channel: str, request: Request) -> dict:
        received["push"].extend((channel, json.loads(m["content"])["trade"]["tid"])
                                for m in await request.json())  # TMC messages
        return {"accepted": 1}

    @hub.post("/wms/status")
    async def status(request: Request) -> dict:
        received["status"].extend(e["stage"] for e in (await request.json())["events"])
        return {"recorded": 1}

    trace = tmp_path / "trace.jsonl"
    write_trace(trace, TraceHeader("tiny", 1, T0), [
        TraceEvent(at=5, kind=EventKind.CREATED, order=order(7))])
    clock = ManualClock(T0 + timedelta(minutes=1))
    with LoopbackServer(hub, name="hub") as hub_server:
        config = SuiteConfig(trace=trace, hub_url=hub_server.url, only=["wms", "tmall"],
                             marketplaces={"channels": ["tmall"], "push": True})
        with EmulatorSuite(config, clock=clock) as suite:
            HTTP.post(f"{suite['wms']}/orders/dispatch", json={"orders": [{
                "key": "k7", "channel": "tmall", "shop": "flagship", "order_id": "T100007"}]})
            clock.advance(3600)
            wms = suite.emulators["wms"]
            assert wms.callback.url == f"{hub_server.url}/wms/status"
            assert wms.callback.drain(timeout_s=10)
            assert suite._push[0].drain(timeout_s=10)
    assert received["push"] == [("tmall", "T100007")]
    assert received["status"] == ["picked", "packed", "shipped"]


def test_config_file_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('speedup = 10\n[wms]\ndefault_workers = 0\n[marketplaces]\n'
                   'channels = ["taobao"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_suite_config(bad)
    text = str(err.value)
    assert f"{bad}: wms.default_workers:" in text
    assert f"{bad}: marketplaces: Value error, channels: unknown ['taobao']" in text
    push_without_hub = tmp_path / "push.toml"
    push_without_hub.write_text("[marketplaces]\npush = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="push needs hub_url"):
        load_suite_config(push_without_hub)


def test_the_example_config_loads() -> None:
    config = load_suite_config(ROOT / "examples" / "emulators.toml")
    assert config.wms.workers["lane-P0"] == 12
    assert config.erp.stock["SKU-LAMP-02"] == {"WH-HZ": 30, "WH-GZ": 10}
    assert config.dingtalk.robots[0].name == "ops"
    assert "SECdemo" not in repr(config)  # secrets stay masked


def test_orderhub_emulate_serves_until_terminated(tmp_path: Path) -> None:
    config = tmp_path / "emu.toml"
    config.write_text('speedup = 60\nonly = ["wms", "dingtalk", "tmall"]\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "emulate", "--config",
                             str(config)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()))
        reader.start()
        reader.join(timeout=30)
        assert first and first[0], proc.stderr.read() if proc.poll() is not None else ""
        started = json.loads(first[0])
        health = {name: HTTP.get(f"{url}/healthz", timeout=5).json()["status"]
                  for name, url in started["urls"].items()}
    finally:
        proc.terminate()
        code = proc.wait(timeout=20)
    assert set(started["urls"]) == {"wms", "dingtalk", "tmall"}
    assert health == {"wms": "ok", "dingtalk": "ok", "tmall": "ok"}
    assert started["clock"]["speedup"] == 60.0
    assert code == 0
