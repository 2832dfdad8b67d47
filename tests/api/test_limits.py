"""What one client may send (``hub.api.limits``), against the hub served for real: a body
over the cap (413, declared or chunked), too many records in one message (413), too many
requests from one address or pushes of one marketplace (429 with Retry-After), a body
that trickles (408), headers over the cap (400); and the defaults let Double-11's pushes
through."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import ValidationError

from hub.api.limits import Limits, RequestLimits, records_in
from hub.config import ApiConfig
from sim.emulators.callback_signing import signed_headers
from tests.api.live import WMS_SECRETS, LiveHub, live_hub
from tests.api.push_helpers import push, push_request
from tests.sim.marketplace_helpers import make_state, orders_for

JSON = {"content-type": "application/json"}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveHub]]:
    """``serve(**api)``: the hub served with these ``[api]`` settings."""
    with ExitStack() as stack:
        yield lambda **api: stack.enter_context(live_hub(tmp_path, **api))


def raw_exchange(hub: LiveHub, head: str, parts: Sequence[bytes] = (), *, pause_s: float = 0,
                 read_timeout_s: float = 5) -> tuple[int, bytes, float]:
    """Send ``head`` (CRLF added) then ``parts`` with ``pause_s`` between them on a raw
    socket, then read what the server answers: status, body, seconds from the first byte
    sent to the answer."""
    with socket.create_connection(("127.0.0.1", hub.server.port), timeout=read_timeout_s) as s:
        began = time.monotonic()
        s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        for part in parts:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):  # refused while still sending
                break
            if select.select([s], [], [], pause_s)[0]:  # answered before the body ended
                break
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        took = time.monotonic() - began
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1], took


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _push(channel: str = "tmall", length: int | None = None, chunked: bool = False) -> str:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return (f"POST /push/{channel}?shop=flagship HTTP/1.1\nHost: hub\n"
            f"Content-Type: application/json\n{framing}\n")


# -- body size -----------------------------------------------------------------------------
def test_a_declared_body_over_the_cap_is_refused_before_a_byte_of_it_is_sent(serve) -> None:
    hub = serve(max_body_bytes=64 * 1024)
    status, body, took = raw_exchange(hub, _push(length=10_000_000))
    assert status == 413
    assert b"max_body_bytes (65536 bytes)" in body
    assert took < 2 and hub.router.orders == []


def test_a_chunked_body_is_stopped_at_the_cap_not_read_to_its_end(serve) -> None:
    hub = serve(max_body_bytes=64 * 1024)
    chunk = b"%x\r\n%s\r\n" % (16 * 1024, b" " * 16 * 1024)
    # five chunks (80 KiB) and no last chunk: the body never ends, yet the answer comes
    status, body, _ = raw_exchange(hub, _push(chunked=True), [chunk] * 5)
    assert status == 413 and b"max_body_bytes" in body
    assert hub.router.orders == []


def test_a_body_over_the_cap_posted_whole_is_413_and_one_under_it_is_taken(serve) -> None:
    hub = serve(max_body_bytes=64 * 1024)
    big = httpx.post(hub.url + "/push/tmall", content=b" " * (64 * 1024 + 1), headers=JSON)
    assert big.status_code == 413, big.text
    assert "65536" in big.json()["detail"]
    state = make_state("tmall", orders := orders_for("tmall", range(1, 4)))
    with httpx.Client(base_url=hub.url) as client:
        ok = push(client, "tmall", orders, state)
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] == 3


# -- records per message -------------------------------------------------------------------
def test_a_push_of_more_records_than_max_records_is_413_and_nothing_is_stored(serve) -> None:
    hub = serve(max_records=5)
    state = make_state("tmall", orders := orders_for("tmall", range(1, 7)))
    records = [state.encode(o) for o in orders]
    refused = httpx.post(hub.url + "/push/tmall?shop=flagship", headers=JSON,
                         content=orjson.dumps(records))
    assert refused.status_code == 413
    assert refused.json()["detail"] == "6 records in one message; max_records is 5"
    assert hub.router.orders == []
    with httpx.Client(base_url=hub.url) as client:
        taken = push(client, "tmall", orders[:5], state)
    assert taken.status_code == 200 and taken.json()["accepted"] == 5


def test_a_status_callback_of_more_events_than_max_records_is_413(serve) -> None:
    hub = serve(max_records=5)
    o = hub.seeded.orders["open"]
    event = {"channel": o.channel.value, "shop": o.shop, "order_id": o.order_id,
             "stage": "picked", "at": "2026-11-11T00:10:00+08:00"}
    for count, expected in ((6, 413), (1, 200)):
        body = orjson.dumps({"events": [event] * count})
        answer = httpx.post(hub.url + "/wms/status", content=body, headers={
            **JSON, **signed_headers("main", WMS_SECRETS["main"], body)})
        assert answer.status_code == expected, answer.text
    assert "max_records is 5" in httpx.post(
        hub.url + "/wms/status", headers=JSON,
        content=orjson.dumps([event] * 6)).json()["detail"]


def test_records_are_counted_as_each_marketplace_nests_them() -> None:
    assert records_in([{}] * 7) == 7
    assert records_in({"tid": 1, "orders": {"order": [{}, {}]}}) == 2  # a trade's lines
    assert records_in({"trades_sold_get_response": {"trades": {"trade": [{}] * 9}}}) == 9
    assert records_in({"data": {"shop_order_list": [{}] * 4, "total": 4}}) == 4
    assert records_in({"events": [{}] * 3}) == 3
    assert records_in({"tid": 1}) == records_in("text") == 1
    assert records_in({"a": {"b": {"c": {"d": {"e": [1, 2, 3]}}}}}) == 1  # too deep to look


# -- rates ---------------------------------------------------------------------------------
def test_an_address_past_its_burst_is_429_with_retry_after_then_served_again(serve) -> None:
    hub = serve(rate_per_s=1, rate_burst=3)
    with httpx.Client(base_url=hub.url) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/api/lanes")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert "at most 1/s" in refused.json()["detail"]
        time.sleep(1.05)
        assert client.get("/healthz").status_code == 200


def test_pushes_are_limited_per_marketplace(serve) -> None:
    hub = serve(rate_per_s=0, push_rate_per_s=0.5, push_rate_burst=2)
    with httpx.Client(base_url=hub.url, headers=JSON) as client:
        codes = [client.post(**push_request("tmall", [])).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = client.post(**push_request("tmall", []))
        assert refused.headers["retry-after"] in ("1", "2")  # a token every 2 s
        assert "too many pushes from tmall" in refused.json()["detail"]
        assert client.post(**push_request("jd", [])).status_code == 200
        assert client.get("/healthz").status_code == 200  # the address is not limited


def test_the_default_rates_let_a_double_11_peak_through() -> None:
    """Three marketplaces pushing 300 times a second each, the WMS calling back 50 times
    a second and the dashboard polling, all from loopback, for a minute: none refused."""
    now = [0.0]
    limits = RequestLimits(lambda *a: None, Limits.of(), now=lambda: now[0])
    scopes = [{"type": "http", "client": ("127.0.0.1", 5000), "path": f"/push/{c}",
               "headers": []} for c in ("tmall", "jd", "douyin")]
    scopes += [{"type": "http", "client": ("127.0.0.1", 5001), "path": "/wms/status",
                "headers": []}] * 50 + [{"type": "http", "client": ("127.0.0.1", 5002),
                                         "path": "/api/lanes", "headers": []}] * 5
    refused = 0
    for tick in range(60 * 300):  # every 1/300 s: one push per channel, a share of the rest
        now[0] = tick / 300
        batch = scopes[:3] + ([scopes[3 + tick % 55]] if tick % 300 < 55 else [])
        refused += sum(limits._refusal(s) is not None for s in batch)
    assert refused == 0
    assert limits.by_source.refused == limits.by_channel.refused == 0


# -- time ----------------------------------------------------------------------------------
def test_a_body_that_trickles_past_body_timeout_s_is_408(serve) -> None:
    hub = serve(body_timeout_s=0.5)
    # 1 byte every 0.1 s of a 40-byte body: steady, but not done within 0.5 s
    status, body, took = raw_exchange(hub, _push(length=40), [b" "] * 40, pause_s=0.1)
    assert status == 408 and b"body_timeout_s (0.5 s)" in body
    assert 0.5 <= took < 2.5


def test_a_body_that_never_comes_is_408_and_a_prompt_one_is_served(serve) -> None:
    hub = serve(body_timeout_s=0.5)
    status, _, took = raw_exchange(hub, _push(length=10))
    assert status == 408 and took < 2.5
    prompt = b'{"events": []}'
    signed = "".join(f"{k}: {v}\n" for k, v in signed_headers(
        "main", WMS_SECRETS["main"], prompt).items())
    head = (f"POST /wms/status HTTP/1.1\nHost: hub\nContent-Type: application/json\n"
            f"{signed}Content-Length: {len(prompt)}\n")
    status, body, _ = raw_exchange(hub, head, [prompt])
    assert status == 200 and orjson.loads(body) == {"recorded": 0}


def test_unfinished_headers_past_max_header_bytes_are_refused_before_the_app(serve) -> None:
    hub = serve(max_header_bytes=1024)
    # 4 KiB of headers and no blank line after them: buffered up to the cap, then 400
    status, _, took = raw_exchange(hub, f"GET /healthz HTTP/1.1\nHost: hub\nX-Big: {'a' * 4096}")
    assert status == 400 and took < 2
    assert httpx.get(hub.url + "/healthz").status_code == 200


# -- settings ------------------------------------------------------------------------------
def test_the_limit_settings_are_validated_and_reach_the_server() -> None:
    for bad in ({"max_records": 0}, {"max_body_bytes": 10}, {"body_timeout_s": 0},
                {"rate_per_s": -1}, {"rate_burst": 0}, {"push_rate_burst": 0},
                {"max_header_bytes": 100}):
        with pytest.raises(ValidationError):
            ApiConfig(**bad)
    api = ApiConfig()
    assert (api.max_body_bytes, api.max_records, api.body_timeout_s) == (8 << 20, 1000, 30)
    from fastapi import FastAPI

    from hub.api.server import ApiServer

    server = ApiServer.from_config(FastAPI(), ApiConfig(port=0, max_header_bytes=4096))
    try:
        assert server.config.h11_max_incomplete_event_size == 4096
    finally:
        server.stop()


# -- the schema ----------------------------------------------------------------------------
@pytest.mark.parametrize("reads_need_token", [False, True])
def test_the_schema_lists_the_refusals_where_they_apply(tmp_path, reads_need_token) -> None:
    from tests.api.conftest import make_hub

    for hub in make_hub(tmp_path, read_requires_token=reads_need_token):
        paths = hub.client.get("/openapi.json").json()["paths"]
        lanes = paths["/api/lanes"]["get"]["responses"]
        release = paths["/api/orders/{channel}/{shop}/{order_id}/release"]["post"]["responses"]
        assert {"408", "413", "429"} <= set(lanes) and {"401", "403", "400"} <= set(release)
        assert ("401" in lanes) is reads_need_token
        assert lanes["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
        dry_run = paths["/api/rules/dry-run"]["post"]["responses"]["422"]
        shapes = dry_run["content"]["application/json"]["schema"]["anyOf"]
        assert {"$ref": "#/components/schemas/HTTPValidationError"} in shapes
