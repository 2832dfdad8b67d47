"""Marketplace clients against httpx.MockTransport: signing, paging, retries, typed
errors, Douyin batch decrypt, and no secret in a log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
import pytest

from hub.config import ChannelConfig
from hub.connectors.marketplace import (
    AuthError,
    DouyinClient,
    JdClient,
    RequestRejected,
    RetryPolicy,
    ServerError,
    ThrottledError,
    TmallClient,
    client_for,
)
from hub.domain.order import SHANGHAI
from sim.shapes import douyin as douyin_shape
from sim.shapes import jd as jd_shape
from sim.shapes import tmall as tmall_shape
from tests.factories import order

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
SECRET, TOKEN = "s3cr3t-value", "t0ken-value"


class Recorder:
    """An injected sleep that only writes the delays down."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make(cls: type, handler: Any, **kwargs: Any) -> tuple[Any, Recorder]:
    sleep = Recorder()
    kwargs.setdefault("retry", RetryPolicy(max_retries=4, base_s=0.1, factor=2, max_s=10,
                                           jitter=0.5))
    c = cls("http://mp.test", "key-1", SECRET, TOKEN, shop="flagship",
            transport=httpx.MockTransport(handler), sleep=sleep, seed=7, **kwargs)
    return c, sleep


def run(c: Any, start: datetime = T0, end: datetime = T0 + timedelta(hours=1), *,
        close: bool = True) -> list:
    async def go() -> list:
        try:
            return [p async for p in c.fetch_window(start, end)]
        finally:
            if close:
                await c.aclose()
    return asyncio.run(go())


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def top_md5(params: dict[str, str], secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k])
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def tmall_pages(pages: list[list[int]]) -> Any:
    """A handler serving ``pages`` of factory orders; it checks every signature."""
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = form(request)
        seen.append(params)
        assert params["sign"] == top_md5(params, SECRET)
        index = int(params["page_no"]) - 1
        raws = [tmall_shape.to_raw(order(n)) for n in pages[index]]
        return httpx.Response(200, json=tmall_shape.page(
            raws, page_no=index + 1, page_size=len(raws), total=sum(map(len, pages)),
            has_next=index + 1 < len(pages)))

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def test_tmall_signs_every_request_and_follows_every_page() -> None:
    handler = tmall_pages([[1, 2], [3, 4], [5]])
    c, sleep = make(TmallClient, handler, page_size=2)
    pages = run(c, T0 + timedelta(microseconds=900_000), T0 + timedelta(minutes=30, seconds=1.5))
    assert sorted(o.order_id for p in pages for o in p.orders) == \
        [f"T{100000 + n}" for n in range(1, 6)]
    seen = handler.seen
    assert [p["page_no"] for p in seen] == ["1", "3", "2", "1"]  # 1, last to 2, 1 again
    assert seen[0]["session"] == TOKEN and seen[0]["app_key"] == "key-1"
    assert seen[0]["method"] == "taobao.trades.sold.increment.get"
    assert (seen[0]["start_modified"], seen[0]["end_modified"]) == \
        ("2026-11-11 00:00:00", "2026-11-11 00:30:02")  # whole seconds, end up, Shanghai
    assert sleep.delays == [] and c.stats["requests"] == 4


def test_an_order_leaving_the_window_while_it_is_paged_hides_no_other() -> None:
    """Order 1 gets a new version (past the window's end) right after page 1 was read:
    the orders behind it move up one place. Read first to last, order 3 would be
    skipped; read last to first, none is."""
    window = [1, 2, 3, 4, 5]

    def handler(request: httpx.Request) -> httpx.Response:
        page_no = int(form(request)["page_no"])
        chunk = window[(page_no - 1) * 2:page_no * 2]
        answer = httpx.Response(200, json=tmall_shape.page(
            [tmall_shape.to_raw(order(n)) for n in chunk], page_no=page_no, page_size=2,
            total=len(window), has_next=page_no * 2 < len(window)))
        if 1 in window:
            window.remove(1)
        return answer

    c, _ = make(TmallClient, handler, page_size=2)
    pages = run(c, T0, T0 + timedelta(minutes=30))
    assert {o.order_id for p in pages for o in p.orders} >= {f"T{100000 + n}" for n in (2, 3, 4, 5)}
    assert c.stats["backward_windows"] == 1


def test_a_long_window_is_split_at_the_marketplace_span() -> None:
    handler = tmall_pages([[]])
    c, _ = make(TmallClient, handler)
    run(c, T0, T0 + timedelta(days=2, hours=12))
    windows = [(p["start_modified"], p["end_modified"]) for p in handler.seen]
    assert windows == [("2026-11-11 00:00:00", "2026-11-12 00:00:00"),
                       ("2026-11-12 00:00:00", "2026-11-13 00:00:00"),
                       ("2026-11-13 00:00:00", "2026-11-13 12:00:00")]


def test_server_errors_and_timeouts_are_retried_with_growing_backoff() -> None:
    ok = tmall_pages([[1]])
    script = iter(["503", "timeout", "refused", "garbage"])

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script, None)
        if step == "503":
            return httpx.Response(503, text="busy")
        if step == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if step == "refused":
            raise httpx.ConnectError("refused", request=request)
        if step == "garbage":
            return httpx.Response(200, text="<html>gateway</html>")
        return ok(request)

    c, sleep = make(TmallClient, handler)
    pages = run(c)
    assert [o.order_id for o in pages[0].orders] == ["T100001"]
    assert c.stats["retries"] == 4 and c.stats["server_errors"] == 4
    for attempt, delay in enumerate(sleep.delays):
        full = 0.1 * 2 ** attempt
        assert full * 0.5 <= delay <= full  # jitter takes up to half of each delay


def test_the_throttling_hint_is_obeyed() -> None:
    ok = tmall_pages([[1]])
    answers = iter([tmall_shape.error(7, "App Call Limited",
                                      "accesscontrol.limited-by-app-access-count",
                                      "This ban will last for 3 more seconds")])

    def handler(request: httpx.Request) -> httpx.Response:
        body = next(answers, None)
        return httpx.Response(200, json=body) if body else ok(request)

    c, sleep = make(TmallClient, handler)
    run(c)
    assert len(sleep.delays) == 1 and sleep.delays[0] >= 3.0
    assert c.stats["throttled"] == 1


def test_throttling_without_a_hint_backs_off_and_gives_up_typed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=jd_shape.throttled())

    c, sleep = make(JdClient, handler, retry=RetryPolicy(max_retries=2, base_s=0.1))
    with pytest.raises(ThrottledError) as info:
        run(c)
    assert info.value.code == "67" and info.value.retry_after is None
    assert len(sleep.delays) == 2 and c.stats["requests"] == 3


@pytest.mark.parametrize(("cls", "body", "code"), [
    (TmallClient, tmall_shape.error(27, "Invalid session", "invalid-sessionkey"), "27"),
    (JdClient, jd_shape.error(19, "Invalid access_token"), "19"),
    (DouyinClient, douyin_shape.error(40003, "签名校验失败", "isv.signature-invalid"), "40003"),
])
def test_auth_errors_are_raised_at_once(cls: type, body: dict, code: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=body)

    c, sleep = make(cls, handler)
    with pytest.raises(AuthError) as info:
        run(c)
    assert info.value.code == code and len(calls) == 1 and sleep.delays == []
    assert c.stats["auth_errors"] == 1


def test_a_refused_request_is_not_retried_and_giving_up_keeps_the_status() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=tmall_shape.error(
            41, "Invalid Arguments", "isv.invalid-parameter:page_size"))

    c, _ = make(TmallClient, refuse)
    with pytest.raises(RequestRejected) as info:
        run(c)
    assert info.value.sub_code == "isv.invalid-parameter:page_size"

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    c, sleep = make(TmallClient, down)
    with pytest.raises(ServerError) as failed:
        run(c)
    assert failed.value.status == 502 and c.stats["requests"] == 5 and len(sleep.delays) == 4


def test_jd_request_carries_signed_business_json() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = form(request)
        seen.append(params)
        assert params["sign"] == top_md5(params, SECRET)  # JD signs as TOP md5 does
        raws = [jd_shape.to_raw(order(n, channel="jd", order_id=f"J{n}")) for n in (1, 2, 3)]
        page = int(orjson.loads(params["360buy_param_json"])["page"])
        chunk = raws[(page - 1) * 2: page * 2]
        return httpx.Response(200, json=jd_shape.page(chunk, page_no=page, page_size=2,
                                                      total=3, has_next=page < 2))

    c, _ = make(JdClient, handler, page_size=2)
    pages = run(c)
    assert sorted(o.order_id for p in pages for o in p.orders) == ["J1", "J2", "J3"]
    business = orjson.loads(seen[0]["360buy_param_json"])
    assert business["start_date"] == "2026-11-11 00:00:00"
    assert business["page"] == "1" and business["page_size"] == "2"
    assert "WAIT_SELLER_STOCK_OUT" in business["order_state"].split(",")
    assert seen[0]["access_token"] == TOKEN and len(seen) == 3  # 1, 2, 1 again


def test_douyin_signs_pages_from_zero_and_decrypts_in_batches_of_50() -> None:
    originals = [order(n, channel="douyin", order_id=f"D{n}", receiver=order(1).receiver
                       .model_copy(update={"phone": f"1381234{n:04d}", "name": f"买家{n}",
                                           "detail": f"文三路{n}号"}))
                 for n in range(1, 21)]
    raws = [douyin_shape.to_raw(o) for o in originals]
    plain = {k: v for o, r in zip(originals, raws, strict=True)
             for k, v in douyin_shape.decrypt_map(r, None, o).items()}
    batches: list[int] = []
    searches: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        body = request.content.decode()
        text = (f"{SECRET}app_key{query['app_key']}method{query['method']}param_json{body}"
                f"timestamp{query['timestamp']}v{query['v']}{SECRET}")
        assert query["sign"] == hmac.new(SECRET.encode(), text.encode(),
                                         hashlib.sha256).hexdigest()
        assert query["access_token"] == TOKEN and query["sign_method"] == "hmac-sha256"
        if request.url.path == "/order/batchDecrypt":
            infos = orjson.loads(body)["cipher_infos"]
            batches.append(len(infos))
            out = [{"auth_id": i["auth_id"], "cipher_text": i["cipher_text"],
                    "decrypt_text": plain[i["cipher_text"]], "err_no": 0, "err_msg": ""}
                   for i in infos]
            out[0].update(err_no=300008, decrypt_text="")  # one the marketplace refuses
            return httpx.Response(200, json={"code": 10000, "msg": "success",
                                             "data": {"decrypt_infos": out}})
        searches.append(request)
        params = orjson.loads(body)
        return httpx.Response(200, json=douyin_shape.page(
            raws, page_no=params["page"], page_size=params["size"], total=20, has_next=False))

    c, _ = make(DouyinClient, handler)
    pages = run(c, close=False)
    assert orjson.loads(searches[0].content)["page"] == 0
    assert batches == [50, 10]  # 60 distinct ciphers
    got = {o.order_id: o for o in pages[0].orders}
    assert len(got) == 20
    assert sum(o.receiver.phone == src.receiver.phone for src in originals
               for o in [got[src.order_id]]) >= 19  # all but the refused cipher
    assert any("*" in o.receiver.name or "*" in o.receiver.phone or "*" in o.receiver.detail
               for o in got.values())  # the refused one stays masked

    again = run(c)  # the same window: only the refused ciphers are asked for again
    assert batches == [50, 10, 2]
    assert c.stats["decrypt_kept_hits"] == 58
    second = {o.order_id: o for o in again[0].orders}
    same = [k for k, o in got.items()
            if "*" not in o.receiver.phone + o.receiver.name + o.receiver.detail]
    assert len(same) >= 18 and all(second[k] == got[k] for k in same)


def test_douyin_keeps_a_bounded_number_of_decrypted_ciphers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        infos = orjson.loads(request.content)["cipher_infos"]
        return httpx.Response(200, json={"code": 10000, "msg": "success", "data": {
            "decrypt_infos": [{"auth_id": i["auth_id"], "cipher_text": i["cipher_text"],
                               "decrypt_text": "plain-" + i["cipher_text"], "err_no": 0}
                              for i in infos]}})

    c, _ = make(DouyinClient, handler)
    c.decrypted_kept = 30
    pairs = [(f"D{n}", f"cipher-{n}") for n in range(100)]
    got = asyncio.run(c.decrypt(pairs))
    assert got == {f"cipher-{n}": f"plain-cipher-{n}" for n in range(100)}
    assert list(c._plain) == [f"cipher-{n}" for n in range(70, 100)]  # the newest 30
    calls = c.stats["decrypt_calls"]
    assert asyncio.run(c.decrypt(pairs[90:])) == {k: v for k, v in got.items()
                                                  if int(k.split("-")[1]) >= 90}
    assert c.stats["decrypt_calls"] == calls  # all kept: no call


def test_no_secret_or_token_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    script = iter([httpx.Response(503), httpx.Response(200, json=douyin_shape.error(
        40003, "access_token不存在", "isv.access-token-no-existed"))])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(script)

    caplog.set_level(logging.DEBUG)
    c, _ = make(DouyinClient, handler)
    with pytest.raises(AuthError) as info:
        run(c)
    for text in (caplog.text, repr(c), str(info.value)):
        assert SECRET not in text and TOKEN not in text
    assert "douyin" in caplog.text  # something was logged


def test_client_for_builds_the_channel_client_from_config() -> None:
    config = ChannelConfig(channel="jd", shop="jd-shop", base_url="http://jd.test/",
                           app_key="k", app_secret=SECRET, access_token=TOKEN,
                           page_size=50, max_retries=2, timeout_s=3)
    c = client_for(config, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    assert isinstance(c, JdClient)
    assert (c.base_url, c.shop, c.page_size, c.timeout_s, c.retry.max_retries) == \
        ("http://jd.test", "jd-shop", 50, 3, 2)
    assert SECRET not in repr(c)
    with pytest.raises(ValueError, match="page_size"):
        TmallClient("http://x", "k", "s", "t", page_size=101)
