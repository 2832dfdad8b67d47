"""The push endpoint against a real Douyin emulator (batchDecrypt over HTTP) and a real
ledger actor: receivers are stored decrypted, and when the marketplace cannot decrypt
the push is refused (503) with nothing stored, so the sender pushes it again."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.actors.ledger_service import LedgerService
from hub.api.intake import intake_router
from hub.clock import ManualClock
from hub.config import HubSettings
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving

pytestmark = pytest.mark.ray


class Submitted:
    """The router's intake, recording what it was handed."""

    def __init__(self) -> None:
        self.orders: list = []

    def submit(self, orders: list) -> int:
        self.orders.extend(orders)
        return len(orders)

    def keys(self) -> list:
        return [o.key for o in self.orders]


class FakeHubFace:
    def __init__(self, ray, settings: HubSettings, ledger_path: str) -> None:
        self.settings, self.clock = settings, ManualClock(T0)
        self.ledger = ray.remote(LedgerService).remote(ledger_path)
        self.router = ray.remote(Submitted).remote()


def _app(hub: FakeHubFace) -> TestClient:
    app = FastAPI()
    app.include_router(intake_router(hub))
    return TestClient(app)


def test_douyin_push_is_decrypted_or_refused_whole(ray_session, tmp_path) -> None:
    ray = ray_session
    orders = orders_for("douyin", range(1, 6))
    state = make_state("douyin", orders)
    with serving(state) as server:
        settings = HubSettings(channels=[{"channel": "douyin", "shop": "flagship",
                                          "base_url": server.url}])
        hub = FakeHubFace(ray, settings, str(tmp_path / "ledger.sqlite3"))
        payload = orjson.dumps([state.encode(o) for o in orders])
        assert b"13812345678" not in payload  # the receiver travels encrypted
        with _app(hub) as client:
            httpx.post(server.url + "/_control/faults",
                       json={"kind": "outage", "duration_s": 3600}).raise_for_status()
            refused = client.post("/push/douyin?shop=flagship", content=payload)
            assert refused.status_code == 503 and "push again" in refused.text
            assert ray.get(hub.ledger.call.remote("counts"))["stages"] == {}
            assert ray.get(hub.router.keys.remote()) == []
            httpx.delete(server.url + "/_control/faults").raise_for_status()
            accepted = client.post("/push/douyin?shop=flagship", content=payload)
            assert accepted.status_code == 200, accepted.text
            assert accepted.json() == {"accepted": 5, "new": 5, "quarantined": 0}
    stored = ray.get(hub.ledger.call.remote("get_order", orders[0].key))
    assert stored.order.receiver == orders[0].receiver
    assert sorted(ray.get(hub.router.keys.remote())) == sorted(o.key for o in orders)
