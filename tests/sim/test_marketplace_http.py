"""The marketplace emulators over real HTTP on 127.0.0.1, through the hub's clients."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest

from hub.connectors.marketplace import (
    AuthError,
    RequestRejected,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from hub.domain.adapters import parse_any
from sim.trace import EventKind, TraceEvent
from tests.sim.marketplace_helpers import (
    CHANNELS,
    HTTP,
    T0,
    SleepLog,
    client,
    ids,
    make_state,
    orders_for,
    pull,
    serving,
)

ORDERS = range(1, 24)
WANT = {"tmall": [f"T{n:05d}" for n in ORDERS], "jd": [f"J{n:05d}" for n in ORDERS],
        "douyin": [f"D{n:05d}" for n in ORDERS]}


def raw_call(channel: str, url: str, *, tamper: dict | None = None,
             start=T0, end=T0 + timedelta(minutes=10), timeout: float = 5.0) -> httpx.Response:
    """One signed request as the client builds it, then changed by ``tamper``."""
    c = client(channel, url)
    path, options = c._request(start, end, c.first_page)
    key = "params" if channel == "douyin" else "data"
    options[key] = {**options[key], **(tamper or {})}
    return HTTP.post(url + path, timeout=timeout, **options)


@pytest.mark.parametrize("size", [1, 7, 100])
@pytest.mark.parametrize("channel", CHANNELS)
def test_paging_over_a_window_returns_every_order_exactly_once(channel: str, size: int) -> None:
    originals = orders_for(channel, ORDERS)
    state = make_state(channel, originals)
    with serving(state) as server:
        pages = pull(client(channel, server.url, page_size=size))
    got = ids(pages)
    assert sorted(got) == WANT[channel] and len(got) == len(set(got))
    n_pages = -(-len(ORDERS) // size)
    assert len(pages) == n_pages + (n_pages > 1)  # the first page is read again at the end
    by_id = {o.order_id: o for o in originals}
    for page in pages:
        for o in page.orders:  # what the adapter read is what the emulator held
            assert o.modified_at == by_id[o.order_id].modified_at
            assert o.receiver == by_id[o.order_id].receiver  # Douyin's via batchDecrypt
            assert o.amounts == by_id[o.order_id].amounts


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_late_record_in_an_old_window_is_seen_by_an_overlapping_repull(channel: str) -> None:
    orders = orders_for(channel, range(1, 9))
    events = [TraceEvent(10.0 * n, EventKind.CREATED, o) for n, o in enumerate(orders, 1)]
    late = orders_for(channel, [50])[0]
    events.append(TraceEvent(110.0, EventKind.PAID, late))
    state = make_state(channel, now=T0 + timedelta(seconds=100), events=events)
    with serving(state) as server:
        control = HTTP.post(server.url + "/_control/faults",
                             json={"kind": "late", "count": 1, "delay_s": 300})
        assert control.status_code == 200
        first = ids(pull(client(channel, server.url), T0, T0 + timedelta(seconds=100)))
        assert len(first) == 8
        state.clock.advance(20)  # t=120: the event at 110 is released, but held back
        assert ids(pull(client(channel, server.url), T0, T0 + timedelta(seconds=120))) == first
        state.clock.advance(400)
        again = ids(pull(client(channel, server.url), T0 + timedelta(seconds=60),
                         T0 + timedelta(seconds=520)))
        assert late.order_id in again
        assert HTTP.get(server.url + "/_stats").json()["errors"]["late"] == 1


BAD_SIGNATURE = {"tmall": ("25", ""), "jd": ("12", ""),
                 "douyin": ("40003", "isv.signature-invalid")}
BAD_TOKEN = {"tmall": ("27", "invalid-sessionkey"), "jd": ("19", ""),
             "douyin": ("40003", "isv.access-token-no-existed")}


@pytest.mark.parametrize("channel", CHANNELS)
def test_bad_signature_and_token_are_refused_with_the_marketplace_error(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        with pytest.raises(AuthError) as bad_sign:
            pull(client(channel, server.url, secret="wrong-secret"))
        with pytest.raises(AuthError) as bad_token:
            pull(client(channel, server.url, token="stolen"))
        body = raw_call(channel, server.url, tamper={"sign": "0" * 32}).json()
        stats = HTTP.get(server.url + "/_stats").json()
    assert (bad_sign.value.code, bad_sign.value.sub_code) == BAD_SIGNATURE[channel]
    assert (bad_token.value.code, bad_token.value.sub_code) == BAD_TOKEN[channel]
    envelope = {"tmall": lambda b: b["error_response"]["code"],
                "jd": lambda b: b["error_response"]["code"], "douyin": lambda b: b["code"]}
    assert str(envelope[channel](body)) == BAD_SIGNATURE[channel][0]
    assert stats["requests"] == 3  # auth errors are not retried
    assert stats["errors"] == {"auth": 3} and stats["orders_served"] == 0


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_window_over_the_maximum_span_is_refused(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        c = client(channel, server.url)
        with pytest.raises(RequestRejected) as info:
            asyncio.run(c.fetch_page(T0, T0 + timedelta(days=1, seconds=1), c.first_page))
        # the client splits a long window at the span, so the same pull succeeds
        assert sorted(ids(pull(client(channel, server.url), T0 - timedelta(days=2),
                               T0 + timedelta(hours=1)))) == WANT[channel]
    assert "end" in str(info.value)


THROTTLED = {"tmall": lambda b: b["error_response"]["code"] == 7,
             "jd": lambda b: b["error_response"]["code"] == "67",
             "douyin": lambda b: b["code"] == 50002}


@pytest.mark.parametrize("channel", CHANNELS)
def test_faults_appear_when_switched_on(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        control = server.url + "/_control/faults"
        assert HTTP.post(control, json={"kind": "5xx", "count": 1, "status": 502}).is_success
        assert raw_call(channel, server.url).status_code == 502
        assert HTTP.post(control, json={"kind": "throttle", "count": 1}).is_success
        assert THROTTLED[channel](raw_call(channel, server.url).json())
        assert HTTP.post(control, json={"kind": "outage", "duration_s": 30}).is_success
        assert raw_call(channel, server.url).status_code == 503
        assert HTTP.delete(control, params={"kind": "outage"}).json() == {"cleared": 1}
        assert HTTP.post(control, json={"kind": "timeout", "count": 1, "sleep_s": 0.5}).is_success
        with pytest.raises(httpx.ReadTimeout):
            raw_call(channel, server.url, timeout=0.1)
        assert raw_call(channel, server.url).status_code == 200
        refused = HTTP.post(control, json={"kind": "meteor"})
        stats = HTTP.get(server.url + "/_stats").json()
        assert HTTP.get(server.url + "/healthz").json()["status"] == "ok"
    assert refused.status_code == 422 and "kind" in refused.json()["problems"][0]
    assert stats["errors"] == {"5xx": 1, "throttle": 1, "outage": 1, "timeout": 1}
    assert stats["requests"] == 5 and stats["faults"] == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_client_retries_through_a_short_burst(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        HTTP.post(server.url + "/_control/faults", json={"faults": [
            {"kind": "5xx", "count": 2}, {"kind": "throttle", "count": 1},
            {"kind": "timeout", "count": 1, "sleep_s": 0.4}]})
        sleeps = SleepLog()
        c = client(channel, server.url, page_size=7, sleep=sleeps, timeout_s=0.15)
        pages = pull(c)
        stats = HTTP.get(server.url + "/_stats").json()
    assert sorted(ids(pages)) == WANT[channel]
    assert c.stats["retries"] == 4 and len(sleeps.delays) == 4
    assert c.stats["throttled"] == 1 and c.stats["server_errors"] == 3
    assert stats["errors"] == {"5xx": 2, "throttle": 1, "timeout": 1}


def test_an_outage_refuses_connections_then_the_client_gets_through() -> None:
    state = make_state("tmall", orders_for("tmall", ORDERS))
    with serving(state) as server:
        HTTP.post(server.url + "/_control/faults",
                   json={"kind": "outage", "mode": "refused", "duration_s": 5})
        deadline = time.monotonic() + 5
        while server.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/healthz", timeout=1)  # a new connection, refused
        sleeps = SleepLog(clock=state.clock, wall_s=0.1)  # each backoff moves business time
        c = client("tmall", server.url, sleep=sleeps,
                   retry=RetryPolicy(max_retries=12, base_s=1.0, max_s=2.0))
        pages = pull(c)
        assert server.listening
    assert sorted(ids(pages)) == WANT["tmall"]
    assert sum(sleeps.delays[:-1]) < 5 <= sum(sleeps.delays)  # got through once it was over
    assert c.stats["server_errors"] == len(sleeps.delays)


@pytest.mark.parametrize("channel", CHANNELS)
def test_malformed_and_duplicate_records_reach_the_client_as_such(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        HTTP.post(server.url + "/_control/faults", json={"faults": [
            {"kind": "duplicate", "count": 1}, {"kind": "malformed", "count": 1}]})
        pages = pull(client(channel, server.url, page_size=7))
    got = ids(pages)
    assert sorted(set(got)) == WANT[channel] and len(got) == len(WANT[channel]) + 1
    bad = [q for page in pages for q in page.quarantined]
    assert len(bad) == 1
    field = {"tmall": "payment", "jd": "orderTotalPrice", "douyin": "pay_amount"}[channel]
    assert field in str(bad[0].error)


@pytest.mark.parametrize("channel", CHANNELS)
def test_stats_count_what_was_served(channel: str) -> None:
    state = make_state(channel, orders_for(channel, ORDERS))
    with serving(state) as server:
        pull(client(channel, server.url, page_size=10))
        stats = HTTP.get(server.url + "/_stats").json()
    # pages 1, 3, 2, then 1 again (see MarketplaceClient.fetch_window)
    # Douyin also decrypts; the factory's orders share one receiver, so its three
    # ciphers are decrypted with the first page and kept for the others
    calls = 4 if channel != "douyin" else 5
    assert stats["requests"] == calls and stats["stats"]["pages"] == 4
    assert stats["orders_served"] == len(ORDERS) + 10
    assert stats["visible_orders"] == len(ORDERS)
    assert stats["errors"] == {}
    if channel == "douyin":
        assert stats["stats"]["decrypted"] == 3


def test_served_pages_read_back_through_parse_any() -> None:
    state = make_state("jd", orders_for("jd", ORDERS))
    with serving(state) as server:
        body = raw_call("jd", server.url).json()
    page = parse_any("jd", body, "flagship")
    assert sorted(o.order_id for o in page.orders) == WANT["jd"]
    assert page.total == len(ORDERS) and not page.has_next


def test_errors_of_the_client_are_typed() -> None:
    assert ServerError.retryable and ThrottledError.retryable and not AuthError.retryable


def test_three_marketplaces_replay_one_trace_file(tmp_path) -> None:
    from hub.clock import ManualClock
    from sim.emulators.market_http import RunningMarketplace
    from sim.trace import TraceHeader, write_trace

    mixed = [o for n in range(1, 7) for o in orders_for(CHANNELS[n % 3], [n])]
    path = tmp_path / "mixed.trace"
    write_trace(path, TraceHeader("mixed", 1, T0),
                [TraceEvent(10.0 * i, EventKind.CREATED, o) for i, o in enumerate(mixed, 1)])
    clock = ManualClock(T0 + timedelta(minutes=5))
    got = {}
    for channel in CHANNELS:
        with RunningMarketplace(channel, clock, trace=path) as market:
            got[channel] = sorted(ids(pull(client(channel, market.url))))
    assert got == {ch: sorted(o.order_id for o in mixed if o.channel.value == ch)
                   for ch in CHANNELS}
    assert all(len(v) == 2 for v in got.values())


@pytest.mark.parametrize("channel", CHANNELS)
def test_records_hold_every_status_change_and_every_page_served(channel: str) -> None:
    from hub.domain.order import Receiver

    there = Receiver(name="李四", phone="13912345678", province="浙江省", city="杭州市",
                     district="拱墅区", street="米市巷街道", detail="湖墅南路1号")
    first = orders_for(channel, [1], status="unpaid")[0]
    paid = orders_for(channel, [1], status="paid")[0]
    moved = orders_for(channel, [1], status="paid", receiver=there)[0]
    gone = orders_for(channel, [1], status="cancelled", receiver=there)[0]
    other = orders_for(channel, [2])[0]
    events = [TraceEvent(10.0, EventKind.CREATED, first), TraceEvent(12.0, EventKind.CREATED,
                                                                     other),
              TraceEvent(40.0, EventKind.PAID, paid),
              TraceEvent(70.0, EventKind.ADDRESS_CHANGED, moved),
              TraceEvent(95.0, EventKind.CANCELLED, gone)]
    state = make_state(channel, events=events)
    with serving(state) as server:
        pull(client(channel, server.url, page_size=1))
        records = HTTP.get(server.url + "/_records").json()
    mine = [c for c in records["changes"] if c["order_id"] == first.order_id]
    assert [(c["event"], c["status"]) for c in mine] == [
        ("created", "unpaid"), ("paid", "paid"), ("address_changed", "paid"),
        ("cancelled", "cancelled")]
    assert [c["at"] for c in mine] == [(T0 + timedelta(seconds=s)).isoformat()
                                       for s in (10, 40, 70, 95)]
    assert mine[0]["version"] == mine[0]["at"] and mine[0]["channel"] == channel
    assert mine[0]["shop"] == "flagship"
    assert len(records["changes"]) == 5
    pages = records["pages"]
    assert len(pages) == state.stats["pages"] >= 2  # page size 1, two orders visible
    assert {p["count"] for p in pages} == {1}
    assert set(pages[0]) >= {"at", "shop", "api", "start", "end", "page", "count"}
    assert pages[0]["api"] == {"tmall": "taobao.trades.sold.increment.get",
                               "jd": "jingdong.pop.order.search",
                               "douyin": "order.searchList"}[channel]
    assert pages[0]["start"] == T0.isoformat()
    assert pages[0]["shop"] is None  # the demo token sees every shop
