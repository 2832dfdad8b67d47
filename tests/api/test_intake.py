"""The intake endpoints (``hub.api.intake``) over real ledgers: a local SQLite ledger
through ``hub.ledger.local`` (no Ray), and, where the running hub's path matters, the
ledger actor through ``hub.actors.handles`` as the runtime wires it.

Douyin pushes against a real Douyin emulator (batchDecrypt over HTTP): receivers are
stored decrypted, and when the marketplace cannot decrypt the push is refused (503)
with nothing stored, so the sender pushes it again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api.intake import IntakePorts, intake_router
from hub.clock import ManualClock
from hub.connectors import Connections
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from sim.emulators.callback_signing import signed_headers
from tests.api.push_helpers import channel_configs, push, push_request
from tests.fakes import FakeRouter
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving


@dataclass
class Face:
    """The endpoints' test client, and what the ledger and the router hold."""

    client: TestClient
    read: Any  # read(method, *args): a ledger query
    submitted: Any  # () -> the order keys handed to the router


WMS_SECRETS = {"main": "wms-test-secret"}


def status(client: Any, events: Any = None, *, content: bytes | None = None,
           secret: str = "wms-test-secret", **signing: Any) -> Any:
    """POST /wms/status signed as the warehouse signs it (the emulator's own recipe)."""
    body = content if content is not None else orjson.dumps(events)
    headers = signed_headers("main", secret, body, **signing)
    return client.post("/wms/status", content=body,
                       headers={"content-type": "application/json", **headers})


PUSHING = channel_configs("tmall", "jd")  # the shops whose signed pushes are taken


def _local(tmp_path, channels=PUSHING) -> tuple[IntakePorts, Any, Any, Any]:
    ledger, router = open_ledger(tmp_path / "ledger.sqlite3"), FakeRouter()
    ports = IntakePorts(LocalLedger(ledger), router, ManualClock(T0), channels, Connections(),
                        wms_secrets=WMS_SECRETS)
    return (ports, lambda method, *args: getattr(ledger, method)(*args),
            lambda: [o.key for o in router.orders], ledger.close)


class Submitted:
    """The router actor's intake, recording what it was handed."""

    def __init__(self) -> None:
        self.keys: list = []

    def submit(self, orders: list) -> int:
        self.keys += [o.key for o in orders]
        return len(orders)

    def taken(self) -> list:
        return self.keys


def _actors(ray, tmp_path) -> tuple[IntakePorts, Any, Any, Any]:
    from hub.actors.handles import LedgerHandle, RouterHandle
    from hub.ledger.service import LedgerService

    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    router = ray.remote(Submitted).remote()
    ports = IntakePorts(LedgerHandle(ledger), RouterHandle(router), ManualClock(T0),
                        PUSHING, wms_secrets=WMS_SECRETS)
    return (ports, lambda method, *args: ray.get(ledger.call.remote(method, *args)),
            lambda: ray.get(router.taken.remote()), lambda: ray.kill(ledger))


@pytest.fixture(params=["local", pytest.param("actors", marks=pytest.mark.ray)])
def face(request, tmp_path) -> Iterator[Face]:
    if request.param == "local":
        ports, read, submitted, close = _local(tmp_path)
    else:
        ports, read, submitted, close = _actors(request.getfixturevalue("ray_session"),
                                                tmp_path)
    app = FastAPI()
    app.include_router(intake_router(ports))
    try:
        with TestClient(app) as client:
            yield Face(client, read, submitted)
    finally:
        close()


def test_a_push_with_one_order_too_large_stores_the_others_and_quarantines_it(face) -> None:
    orders = orders_for("tmall", range(1, 6))
    receiver = orders[2].receiver.model_copy(update={"detail": "长" * 400_000})  # > 1 MiB
    giant = orders[2] = orders[2].model_copy(update={"receiver": receiver})
    state = make_state("tmall", orders)
    junk = orders[0].model_copy(update={"order_id": "no"})
    items = [(o, state.encode(o)) for o in orders] + [(junk, {"tid": "no"})]
    answer = face.client.post(**push_request("tmall", items))
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json() == {"accepted": 4, "new": 4, "quarantined": 2,
                             "duplicate_messages": 0}
    others = sorted(o.key for o in orders if o is not giant)
    assert sorted(face.submitted()) == others
    assert face.read("get_order", giant.key) is None
    assert all(face.read("get_order", key) is not None for key in others)
    quarantined = face.read("quarantine_list")
    [kept] = [q for q in quarantined if giant.order_id in q.error]
    assert "over the ledger's limit" in kept.error and len(kept.raw) <= 64 * 1024
    assert len(quarantined) == 2  # and the record that did not parse


def test_a_status_callback_is_recorded_and_an_unknown_stage_is_refused(face) -> None:
    [o] = orders_for("jd", [1])
    state = make_state("jd", [o])
    assert push(face.client, "jd", [o], state).status_code == 200
    report = {"channel": "jd", "shop": "flagship", "order_id": o.order_id, "at": "x"}
    refused = status(face.client, {"events": [
        report | {"stage": "picked"}, report | {"stage": "teleported"}]})
    assert refused.status_code == 400
    assert "unknown stage 'teleported'" in refused.json()["detail"]
    assert face.read("get_order", o.key).stage == "received"  # none of the batch
    shipped = status(face.client, {"events": [
        report | {"stage": "shipped", "tracking_no": "SF1"}]})
    assert shipped.json() == {"recorded": 1}
    view = face.read("get_order", o.key)
    assert (view.stage, view.tracking_no) == ("shipped", "SF1")
    assert status(face.client, content=b"{").status_code == 400
    assert status(face.client, {"events": 3}).status_code == 400


def test_a_status_callback_must_be_signed_fresh_and_new(face) -> None:
    [o] = orders_for("jd", [1])
    state = make_state("jd", [o])
    assert push(face.client, "jd", [o], state).status_code == 200
    events = {"events": [{"channel": "jd", "shop": "flagship", "order_id": o.order_id,
                          "stage": "picked"}]}
    unsigned = face.client.post("/wms/status", json=events)
    assert unsigned.status_code == 401 and "X-Signature" in unsigned.json()["detail"]
    assert status(face.client, events, secret="guessed").status_code == 401
    stale = status(face.client, events, now_ms=int((time.time() - 3600) * 1000))
    assert stale.status_code == 401 and "X-Timestamp" in stale.json()["detail"]
    assert face.read("get_order", o.key).stage == "received"  # nothing refused was taken
    first = status(face.client, events, nonce="once")
    assert first.status_code == 200 and first.json() == {"recorded": 1}
    replay = status(face.client, events, nonce="once")
    assert replay.status_code == 409 and "replay" in replay.json()["detail"]
    body = orjson.dumps(events)
    other = signed_headers("elsewhere", "wms-test-secret", body)
    assert face.client.post("/wms/status", content=body, headers=other).status_code == 401


def test_douyin_push_is_decrypted_or_refused_whole(tmp_path) -> None:
    orders = orders_for("douyin", range(1, 6))
    state = make_state("douyin", orders)
    with serving(state) as server:
        channels = channel_configs("douyin", base_url=server.url)
        ports, read, submitted, close = _local(tmp_path, channels)
        app = FastAPI()
        app.include_router(intake_router(ports))
        signed = push_request("douyin", [(o, state.encode(o)) for o in orders])
        assert b"13812345678" not in signed["content"]  # the receiver travels encrypted
        try:
            with TestClient(app) as client:
                httpx.post(server.url + "/_control/faults",
                           json={"kind": "outage", "duration_s": 3600}).raise_for_status()
                refused = client.post(**signed)
                assert refused.status_code == 503 and "push again" in refused.text
                assert read("counts")["stages"] == {}
                assert submitted() == []
                httpx.delete(server.url + "/_control/faults").raise_for_status()
                accepted = client.post(**signed)  # the same messages, pushed again
                assert accepted.status_code == 200, accepted.text
                assert accepted.json() == {"accepted": 5, "new": 5, "quarantined": 0,
                                           "duplicate_messages": 0}
            stored = read("get_order", orders[0].key)
            assert stored.order.receiver == orders[0].receiver
            assert sorted(submitted()) == sorted(o.key for o in orders)
        finally:
            close()
