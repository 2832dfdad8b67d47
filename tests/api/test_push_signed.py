"""Signed pushes on ``POST /push/{channel}`` over a real SQLite ledger: each marketplace's
envelope signed with the emulators' own recipes is taken; an unsigned, wrongly signed,
stale or foreign-app push is refused with 401 and stores nothing; a message id taken in
lately is answered 200 and not stored again; a signed body that is no envelope is 400."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api.intake import IntakePorts, intake_router
from hub.clock import ManualClock
from hub.connectors import Connections
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from sim.emulators.push_signing import envelope
from tests.api.push_helpers import channel_configs, push, push_request
from tests.fakes import FakeRouter
from tests.sim.marketplace_helpers import CHANNELS, T0, make_state, orders_for, serving


@dataclass
class Hub:
    client: TestClient
    ledger: Any
    router: FakeRouter

    def stored(self) -> int:
        return sum(self.ledger.counts()["stages"].values())


@contextmanager
def hub(tmp_path, channels: list, window_s: float = 300.0) -> Iterator[Hub]:
    ledger, router = open_ledger(tmp_path / "ledger.sqlite3"), FakeRouter()
    ports = IntakePorts(LocalLedger(ledger), router, ManualClock(T0), channels, Connections(),
                        push_window_s=window_s)
    app = FastAPI()
    app.include_router(intake_router(ports))
    try:
        with TestClient(app) as client:
            yield Hub(client, ledger, router)
    finally:
        ledger.close()


@contextmanager
def channel_hub(tmp_path, channel: str, orders: list) -> Iterator[tuple[Hub, Any]]:
    """A hub configured for ``channel`` (Douyin's with a real emulator to decrypt)."""
    state = make_state(channel, orders)
    if channel != "douyin":
        with hub(tmp_path, channel_configs(channel)) as h:
            yield h, state
        return
    with serving(state) as server, hub(tmp_path, channel_configs(
            "douyin", base_url=server.url)) as h:
        yield h, state


@pytest.mark.parametrize(("channel", "method"), [
    ("tmall", "md5"), ("tmall", "hmac-sha256"), ("jd", "md5"),
    ("douyin", "md5"), ("douyin", "hmac-sha256")])
def test_a_signed_push_is_taken(tmp_path, channel: str, method: str) -> None:
    orders = orders_for(channel, range(1, 4))
    with channel_hub(tmp_path, channel, orders) as (h, state):
        answer = push(h.client, channel, orders, state, sign_method=method)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"accepted": 3, "new": 3, "quarantined": 0,
                                 "duplicate_messages": 0}
        for o in orders:
            assert h.ledger.get_order(o.key).order.receiver == o.receiver
        assert sorted(o.key for o in h.router.orders) == sorted(o.key for o in orders)


def _refusals(channel: str, items: list) -> dict[str, dict[str, Any]]:
    """Requests of ``items`` each refused for one reason."""
    good = push_request(channel, items)
    unsigned = {**good, "params": {"shop": "flagship"},
                "headers": {"content-type": "application/json"}}
    wrong = push_request(channel, items, app_secret="guessed")
    stale = push_request(channel, items, now_s=time.time() - 3600)
    early = push_request(channel, items, now_s=time.time() + 3600)
    foreign = push_request(channel, items, app_key="someone-else")
    tampered = {**good, "content": good["content"].replace(b"flagship", b"flagshiq", 1)}
    other_shop = push_request(channel, items, shop="not-configured")
    return {"unsigned": unsigned, "wrong secret": wrong, "stale": stale, "early": early,
            "foreign app key": foreign, "tampered body": tampered,
            "unknown shop": other_shop}


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_refusal_is_401_and_stores_nothing(tmp_path, channel: str) -> None:
    orders = orders_for(channel, range(1, 3))
    state = make_state(channel, orders)
    items = [(o, state.encode(o)) for o in orders]
    with hub(tmp_path, channel_configs(channel)) as h:
        for reason, request in _refusals(channel, items).items():
            answer = h.client.post(**request)
            assert answer.status_code == 401, (reason, answer.text)
            assert answer.json()["detail"], reason
        assert h.stored() == 0 and h.router.orders == []
        assert h.ledger.quarantine_list() == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_reason_names_what_is_wrong(tmp_path, channel: str) -> None:
    orders = orders_for(channel, [1])
    state = make_state(channel, orders)
    refusals = _refusals(channel, [(o, state.encode(o)) for o in orders])
    with hub(tmp_path, channel_configs(channel)) as h:
        def detail(reason: str) -> str:
            return h.client.post(**refusals[reason]).json()["detail"]

        assert "needs" in detail("unsigned")
        assert "does not match" in detail("wrong secret")
        assert "does not match" in detail("tampered body")
        assert "replay" in detail("stale") and "replay" in detail("early")
        assert "app" in detail("foreign app key")
        assert "no push credentials" in detail("unknown shop")


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_replayed_message_is_answered_and_not_stored_again(tmp_path, channel: str) -> None:
    orders = orders_for(channel, range(1, 4))
    with channel_hub(tmp_path, channel, orders) as (h, state):
        first = push(h.client, channel, orders, state)
        assert first.json()["new"] == 3
        events = h.ledger.counts()
        again = push(h.client, channel, orders, state)  # the same ids, stamped afresh
        assert again.status_code == 200, again.text
        assert again.json() == {"accepted": 0, "new": 0, "quarantined": 0,
                                "duplicate_messages": 3}
        assert h.ledger.counts() == events
        assert len(h.router.orders) == 3
        newer = orders[0].model_copy(update={"modified_at": orders[0].modified_at.replace(
            minute=59)})
        state.add_orders([newer])
        mixed = push(h.client, channel, [orders[1], newer], state)  # one seen, one new
        assert mixed.json() == {"accepted": 1, "new": 1, "quarantined": 0,
                                "duplicate_messages": 1}


def test_a_message_twice_in_one_push_is_taken_once(tmp_path) -> None:
    [o] = orders_for("jd", [1])
    with channel_hub(tmp_path, "jd", [o]) as (h, state):
        answer = push(h.client, "jd", [o, o], state)
        assert answer.json() == {"accepted": 1, "new": 1, "quarantined": 0,
                                 "duplicate_messages": 1}


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_signed_body_that_is_no_envelope_is_400_with_the_reason(tmp_path,
                                                                    channel: str) -> None:
    [o] = orders_for(channel, [1])
    state = make_state(channel, [o])
    good = envelope(channel, [(o, state.encode(o))], now_s=time.time(), app_key="demo-key")
    bodies = {b"{": "not JSON", b'{"a": 1}': "JSON list",
              b"[1]": "not an object", b'[{"x": 1}]': "must be",
              good.replace(b'{\\"', b'{\\"\\"', 1): "not JSON"}
    with hub(tmp_path, channel_configs(channel)) as h:
        for body, reason in bodies.items():
            answer = h.client.post(**push_request(channel, [], body=body))
            assert answer.status_code == 400, (body, answer.text)
            assert reason in answer.json()["detail"], (body, answer.json())
        assert h.stored() == 0


def test_a_douyin_message_out_of_the_window_is_refused_whole(tmp_path) -> None:
    """Douyin stamps each message (data.msg_time): one stale message refuses the push."""
    orders = orders_for("douyin", range(1, 3))
    state = make_state("douyin", orders)
    now = time.time()
    fresh = envelope("douyin", [(orders[0], state.encode(orders[0]))], now_s=now,
                     app_key="demo-key")
    stale = envelope("douyin", [(orders[1], state.encode(orders[1]))], now_s=now - 900,
                     app_key="demo-key")
    body = fresh[:-1] + b"," + stale[1:]
    with hub(tmp_path, channel_configs("douyin"), window_s=600) as h:
        answer = h.client.post(**push_request("douyin", [], body=body))
        assert answer.status_code == 401 and "msg_time" in answer.json()["detail"]
        assert h.stored() == 0


def test_a_notice_without_an_order_is_answered_and_stores_nothing(tmp_path) -> None:
    """Douyin's tag-0 message (sent when the push address is set up) carries no order."""
    body = b'[{"tag": "0", "msg_id": "0", "data": "{\\"msg_time\\": %d}"}]' % time.time()
    with hub(tmp_path, channel_configs("douyin")) as h:
        answer = h.client.post(**push_request("douyin", [], body=body))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"accepted": 0, "new": 0, "quarantined": 0,
                                 "duplicate_messages": 0}


def test_a_channel_configured_without_a_shop_signs_for_every_shop(tmp_path) -> None:
    orders = orders_for("tmall", [1])
    state = make_state("tmall", orders)
    configs = channel_configs("tmall", app_key="isv", app_secret="isv-secret")
    configs = [c.model_copy(update={"shop": ""}) for c in configs]
    with hub(tmp_path, configs) as h:
        assert push(h.client, "tmall", orders, state, shop="any-shop").status_code == 401
        answer = push(h.client, "tmall", orders, state, shop="any-shop", app_key="isv",
                      app_secret="isv-secret")
        assert answer.status_code == 200, answer.text
        assert h.ledger.get_order(("tmall", "any-shop", orders[0].order_id)) is not None
