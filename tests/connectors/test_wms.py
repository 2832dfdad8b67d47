"""WmsClient against httpx.MockTransport: request shapes, batching, typed errors."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from hub.connectors.backoffice import BackOfficeRejected, BackOfficeUnavailable
from hub.connectors.wms import WmsClient


class Recorder:
    def __init__(self, answer) -> None:
        self.answer, self.requests = answer, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def accept_all(request: httpx.Request) -> httpx.Response:
    rows = orjson.loads(request.content)["orders"]
    return httpx.Response(200, json={"results": [
        {"key": r["key"], "status": "accepted", "wms_order_no": f"W{r['key']}"} for r in rows]})


def rows(n: int) -> list[dict]:
    return [{"key": f"k{i}", "channel": "tmall", "shop": "s", "order_id": f"T{i}"}
            for i in range(n)]


def client(handler) -> WmsClient:
    return WmsClient("http://wms.test/", transport=httpx.MockTransport(handler))


def test_dispatch_sends_keys_in_batches() -> None:
    seen = Recorder(accept_all)
    wms = client(seen)
    wms.batch = 2
    results = asyncio.run(wms.dispatch(rows(5)))
    assert [r["key"] for r in results] == [f"k{i}" for i in range(5)]
    assert [len(orjson.loads(r.content)["orders"]) for r in seen.requests] == [2, 2, 1]
    assert {str(r.url) for r in seen.requests} == {"http://wms.test/orders/dispatch"}
    assert seen.requests[0].headers["content-type"] == "application/json"
    assert wms.stats["dispatched"] == 5


def test_dispatch_without_keys_is_refused_before_any_call() -> None:
    seen = Recorder(accept_all)
    with pytest.raises(BackOfficeRejected, match="idempotency key"):
        asyncio.run(client(seen).dispatch([{"channel": "tmall", "order_id": "T1"}]))
    assert seen.requests == []


def test_refused_lines_raise_with_their_keys() -> None:
    def partly(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [
            {"key": "k0", "status": "accepted"},
            {"key": "k1", "status": "rejected", "reason": "orders[1].order_id: missing"}]})

    with pytest.raises(BackOfficeRejected) as refused:
        asyncio.run(client(partly).dispatch(rows(2)))
    assert refused.value.rejected == ["k1"]
    assert refused.value.problems == ["orders[1].order_id: missing"]
    assert not refused.value.retryable


@pytest.mark.parametrize("answer", [
    lambda r: httpx.Response(503, json={"error": "down"}),
    lambda r: httpx.Response(429, text="slow down"),
    lambda r: httpx.Response(200, text="<html>gateway</html>"),
])
def test_unavailable_is_retryable(answer) -> None:
    with pytest.raises(BackOfficeUnavailable) as down:
        asyncio.run(client(answer).dispatch(rows(1)))
    assert down.value.retryable


def test_no_answer_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(BackOfficeUnavailable, match="no answer"):
        asyncio.run(client(refuse).status_since(0))


def test_a_4xx_is_rejected_with_the_wms_problems() -> None:
    def bad(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "bad request",
                                         "problems": ["orders: at most 1000 a call"]})

    with pytest.raises(BackOfficeRejected) as refused:
        asyncio.run(client(bad).dispatch(rows(1)))
    assert refused.value.status == 400
    assert refused.value.problems == ["orders: at most 1000 a call"]


def test_status_since_and_status_of() -> None:
    def wms(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/orders/status":
            since = int(request.url.params["since"])
            return httpx.Response(200, json={"seq": since + 1, "newest": 9, "events": [
                {"seq": since + 1, "channel": "jd", "shop": "s", "order_id": "J1",
                 "stage": "shipped", "tracking_no": "SF1"}]})
        asked = orjson.loads(request.content)["orders"]
        return httpx.Response(200, json={"orders": [
            {"channel": c, "shop": s, "order_id": o, "stage": "packed"}
            for c, s, o in asked if o != "J404"], "missing": [["jd", "s", "J404"]]})

    async def both() -> tuple:
        async with client(wms) as c:
            return await c.status_since(7), await c.status_of([("jd", "s", "J1"),
                                                                ("jd", "s", "J404")])

    (seq, events), stages = asyncio.run(both())
    assert seq == 8 and events[0]["tracking_no"] == "SF1"
    assert stages == {("jd", "s", "J1"): "packed"}


def answer_each(status: str):
    def answer(request: httpx.Request) -> httpx.Response:
        lines = orjson.loads(request.content)["orders"]
        return httpx.Response(200, json={"results": [
            {"key": r["key"], "channel": r["channel"], "shop": r["shop"],
             "order_id": r["order_id"], "status": status, "stage": "picked"} for r in lines]})
    return answer


def test_intercept_and_amend_post_the_contracts_lines_in_batches() -> None:
    seen = Recorder(answer_each("intercepted"))
    wms = client(seen)
    wms.batch = 2
    lines = [{**r, "reason": "cancelled", "lane": "P1"} for r in rows(3)]
    results = asyncio.run(wms.intercept(lines))
    assert [r["status"] for r in results] == ["intercepted"] * 3
    assert [q.url.path for q in seen.requests] == ["/orders/intercept"] * 2
    assert orjson.loads(seen.requests[0].content)["orders"][0] == {
        "key": "k0", "channel": "tmall", "shop": "s", "order_id": "T0", "reason": "cancelled"}
    amend = Recorder(answer_each("too_late"))
    receiver = {"name": "张三", "phone": "13812345678", "province": "浙江省", "city": "杭州市",
                "district": "西湖区", "street": "", "detail": "1 号"}
    results = asyncio.run(client(amend).amend([{**rows(1)[0], "receiver": receiver,
                                                "lane": "P1"}]))
    assert results[0]["status"] == "too_late"
    assert amend.requests[0].url.path == "/orders/amend"
    assert orjson.loads(amend.requests[0].content)["orders"][0]["receiver"] == receiver
    assert "lane" not in orjson.loads(amend.requests[0].content)["orders"][0]


def test_a_follow_up_without_a_key_is_refused_before_sending() -> None:
    seen = Recorder(answer_each("amended"))
    with pytest.raises(BackOfficeRejected, match="no idempotency key"):
        asyncio.run(client(seen).amend([{"channel": "jd", "shop": "s", "order_id": "J1"}]))
    assert seen.requests == []
