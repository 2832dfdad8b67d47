"""Hypothesis over push envelopes and signatures: random bodies (real records, mutated
records, broken envelopes, JSON that is no envelope, bytes), signed right or wrong,
stale or fresh, for every marketplace. Every request is either accepted with a valid
signature or refused with a 4xx, never a 5xx; a refused one stores nothing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.api.intake import IntakePorts, intake_router
from hub.clock import ManualClock
from hub.connectors import Connections
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from sim.emulators.push_signing import envelope, jd_sign, tmall_sign
from tests.api.push_helpers import APP_KEY, APP_SECRET, SHOP, channel_configs, push_request
from tests.fakes import FakeRouter
from tests.sim.marketplace_helpers import CHANNELS, T0, make_state, orders_for, serving

WRONG = ("unsigned", "wrong secret", "foreign app key", "tampered", "unknown shop",
         "bad sign method", "garbage signature")
SIGNINGS = ("right", "right", "right", "stale", "garbage timestamp", *WRONG)
TOTALS: Counter = Counter()


@pytest.fixture(scope="module")
def face(tmp_path_factory) -> Iterator[dict[str, Any]]:
    pools = {}
    for channel in CHANNELS:
        orders = orders_for(channel, range(1, 7))
        state = make_state(channel, orders)
        pools[channel] = (state, [(o, state.encode(o)) for o in orders])
    ledger = open_ledger(tmp_path_factory.mktemp("fuzz") / "ledger.sqlite3")
    with serving(pools["douyin"][0]) as douyin:  # Douyin's receivers are decrypted
        channels = [*channel_configs("tmall", "jd"),
                    *channel_configs("douyin", base_url=douyin.url)]
        ports = IntakePorts(LocalLedger(ledger), FakeRouter(), ManualClock(T0), channels,
                            Connections())
        app = FastAPI()
        app.include_router(intake_router(ports))
        with TestClient(app, raise_server_exceptions=False) as client:
            yield {"client": client, "pools": pools, "ledger": ledger}
    ledger.close()
    print(f"\npush fuzz: {sum(TOTALS.values())} requests, by status {dict(TOTALS)}")


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                      st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@st.composite
def records(draw: Any, pool: list) -> list:
    """Real records, some with a field changed or dropped."""
    out = []
    for order, raw in draw(st.lists(st.sampled_from(pool), max_size=4)):
        raw = dict(raw)
        if raw and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(raw)))
            if draw(st.booleans()):
                del raw[key]
            else:
                raw[key] = draw(json_values)
        out.append((order, raw))
    return out


ROLES = {"douyin": ("msg_id", "tag", "data"), "tmall": ("id", "topic", "content"),
         "jd": ("msgId", "topic", "msgPayload")}
NOT_AN_ID = (None, True, [1], "", "x" * 129)
NOT_A_TOPIC = (None, False, [], {})
NOT_A_PAYLOAD = (None, 5, [], "{not json", "[1, 2]", '"text"')
NOT_DOUYIN_DATA = ("{}", '{"msg_time": "now"}', '{"msg_time": null}')


def _broken(channel: str, body: bytes, draw: Any) -> bytes:
    """The envelope with one message made wrong in a way the hub must refuse (400)."""
    messages = orjson.loads(body) or [{}]
    message = messages[draw(st.integers(0, len(messages) - 1))]
    id_key, topic_key, payload_key = ROLES[channel]
    role = draw(st.sampled_from(("id", "topic", "payload")))
    if role == "id":
        message[id_key] = draw(st.sampled_from(NOT_AN_ID))
    elif role == "topic":
        message[topic_key] = draw(st.sampled_from(NOT_A_TOPIC))
    else:
        wrong = NOT_A_PAYLOAD + (NOT_DOUYIN_DATA if channel == "douyin" else ())
        message[payload_key] = draw(st.sampled_from(wrong))
    return orjson.dumps(messages)


def _is_empty_list(body: bytes) -> bool:
    try:
        return orjson.loads(body) == []
    except orjson.JSONDecodeError:
        return False


@st.composite
def pushes(draw: Any) -> tuple[str, dict[str, Any], str, str]:
    channel = draw(st.sampled_from(CHANNELS))
    items = draw(records(POOLS[channel]))
    kind = draw(st.sampled_from(("envelope", "envelope", "broken", "json", "bytes")))
    signing = draw(st.sampled_from(SIGNINGS))
    now = time.time()
    sent = now - 3600 if signing == "stale" else now + draw(st.floats(-60, 60))
    body = envelope(channel, items, now_s=sent, app_key=APP_KEY)
    if kind == "broken":
        body = _broken(channel, body, draw)
    elif kind == "json":
        body = orjson.dumps(draw(json_values))
    elif kind == "bytes":
        body = draw(st.binary(max_size=64))
    if kind in ("json", "bytes") and _is_empty_list(body):
        kind = "envelope"  # a push of no messages is a valid envelope
    method = draw(st.sampled_from(("md5", "hmac-sha256")))
    request = push_request(channel, [], body=body, now_s=sent, sign_method=method,
                           app_secret="guessed" if signing == "wrong secret" else APP_SECRET,
                           app_key="someone" if signing == "foreign app key" else APP_KEY,
                           shop="elsewhere" if signing == "unknown shop" else SHOP)
    params, headers = dict(request["params"]), dict(request["headers"])
    if signing == "unsigned":
        params, headers = {"shop": SHOP}, {"content-type": "application/json"}
    elif signing == "tampered":
        request["content"] = body + b" "
    elif signing == "bad sign method":
        params["sign_method"] = headers["sign-method"] = draw(header_text.filter(
            lambda m: m not in ("md5", "hmac-sha256", "")))
    elif signing == "garbage signature":
        params["sign"] = headers["event-sign"] = draw(header_text)
    elif signing == "garbage timestamp" and channel != "douyin":
        params["timestamp"] = draw(header_text.filter(lambda t: len(t) != 19))
        del params["sign"]  # signed right, with a timestamp that is none
        params["sign"] = (tmall_sign(params, body, APP_SECRET, method)
                          if channel == "tmall" else jd_sign(params, body, APP_SECRET))
    if channel == "douyin" and (signing == "garbage timestamp"
                                or (signing == "stale" and not items)):
        signing = "right"  # Douyin stamps each message (msg_time), not the request
    return channel, request | {"params": params, "headers": headers}, kind, signing


POOLS: dict[str, list] = {}


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=pushes())
def test_a_push_is_accepted_only_signed_right_and_never_answered_5xx(face, case) -> None:
    channel, request, kind, signing = case
    before = face["ledger"].counts()
    answer = face["client"].post(**request)
    TOTALS[answer.status_code] += 1
    assert answer.status_code < 500, (channel, kind, signing, answer.text[:300])
    if answer.is_success:
        assert signing == "right", (channel, kind, signing)
        assert kind == "envelope", (channel, kind, answer.text[:300])
        return
    assert 400 <= answer.status_code < 500 and answer.json()["detail"]
    assert face["ledger"].counts() == before  # refused: nothing stored
    if signing in WRONG or (signing != "right" and channel != "douyin"):
        assert answer.status_code == 401, (channel, kind, signing, answer.text[:300])
    elif signing == "right":
        assert kind != "envelope", (channel, answer.text[:300])
        assert answer.status_code == 400, (channel, kind, answer.text[:300])


@pytest.fixture(scope="module", autouse=True)
def _pools(face) -> None:
    POOLS.update({channel: items for channel, (_, items) in face["pools"].items()})
