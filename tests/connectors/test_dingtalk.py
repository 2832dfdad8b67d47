"""DingTalkRobot and MemoryAlertSink against httpx.MockTransport: the signed URL, the
message formats, errcodes as typed errors, and secrets kept out of logs and reprs."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from hub.connectors.dingtalk import (
    AlertSink,
    DingTalkError,
    DingTalkRobot,
    DingTalkSignError,
    DingTalkThrottled,
    DingTalkTokenError,
    DingTalkUnavailable,
    MemoryAlertSink,
    sign,
    signature,
)

TOKEN, SECRET, NOW = "tok-9f8e7d", "SECsecret-42", 1790000000123


class Robot:
    def __init__(self, errcode: int = 0, errmsg: str = "ok", status: int = 200) -> None:
        self.answer = (status, {"errcode": errcode, "errmsg": errmsg})
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.answer[0], json=self.answer[1])


def robot(handler, secret: str = SECRET) -> DingTalkRobot:
    return DingTalkRobot("http://ding.test/", TOKEN, secret,
                         transport=httpx.MockTransport(handler), now_ms=lambda: NOW)


def test_the_url_carries_token_timestamp_and_a_once_encoded_sign() -> None:
    seen = Robot()
    asyncio.run(robot(seen).send_text("hi", at_mobiles=["13800001111"]))
    request = seen.requests[0]
    raw_query = urlsplit(str(request.url)).query
    query = parse_qs(raw_query)
    assert request.url.path == "/robot/send" and request.method == "POST"
    assert query["access_token"] == [TOKEN]
    assert query["timestamp"] == [str(NOW)]
    assert query["sign"] == [signature(SECRET, NOW)]  # decodes once to the base64
    assert raw_query.split("sign=")[1] == sign(SECRET, NOW)  # URL-encoded once, not twice
    assert orjson.loads(request.content) == {
        "msgtype": "text", "text": {"content": "hi"},
        "at": {"atMobiles": ["13800001111"], "isAtAll": False}}


def test_an_unsigned_robot_sends_no_sign() -> None:
    seen = Robot()
    asyncio.run(robot(seen, secret="").send_markdown("T", "### x", at_all=True))
    query = parse_qs(urlsplit(str(seen.requests[0].url)).query)
    assert set(query) == {"access_token"}
    body = orjson.loads(seen.requests[0].content)
    assert body["markdown"] == {"title": "T", "text": "### x"}
    assert body["at"]["isAtAll"] is True


def test_markdown_mentions_the_mobiles_it_ats() -> None:
    seen = Robot()
    asyncio.run(robot(seen).send_markdown("T", "### 3 held", at_mobiles=["13800001111"]))
    assert orjson.loads(seen.requests[0].content)["markdown"]["text"].endswith("@13800001111")


@pytest.mark.parametrize(("errcode", "errmsg", "kind", "retryable"), [
    (130101, "send too fast, exceed 20 times per minute", DingTalkThrottled, True),
    (310000, "sign not match", DingTalkSignError, False),
    (310000, "invalid timestamp", DingTalkSignError, False),
    (300001, "token is not exist", DingTalkTokenError, False),
    (40035, "缺少参数 json", DingTalkError, False),
])
def test_errcodes_become_typed_errors(errcode: int, errmsg: str, kind: type,
                                      retryable: bool) -> None:
    with pytest.raises(kind) as refused:
        asyncio.run(robot(Robot(errcode, errmsg)).send_text("x"))
    assert type(refused.value) is kind
    assert (refused.value.errcode, refused.value.errmsg) == (errcode, errmsg)
    assert refused.value.retryable is retryable


def test_no_answer_or_5xx_is_unavailable_without_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(DingTalkUnavailable) as down:
        asyncio.run(robot(refuse).send_text("x"))
    with pytest.raises(DingTalkUnavailable, match="HTTP 502"):
        asyncio.run(robot(Robot(status=502)).send_text("x"))
    assert TOKEN not in str(down.value) and down.value.retryable


def test_secrets_stay_out_of_logs_and_reprs(caplog: pytest.LogCaptureFixture) -> None:
    client = robot(Robot(310000, "sign not match"))
    with caplog.at_level(logging.DEBUG), pytest.raises(DingTalkSignError):
        asyncio.run(client.send_text("x"))
    logged = caplog.text
    assert "robot/send" in logged  # httpx's request line is there ...
    assert TOKEN not in logged and SECRET not in logged  # ... without the secrets
    assert signature(SECRET, NOW)[:12] not in logged
    assert TOKEN not in repr(client) and SECRET not in repr(client)


def test_memory_sink_is_an_alert_sink_that_records() -> None:
    sink = MemoryAlertSink()
    assert isinstance(sink, AlertSink) and isinstance(robot(Robot()), AlertSink)
    asyncio.run(sink.send_text("one"))
    asyncio.run(sink.send_markdown("T", "two", at_mobiles=["139"]))
    sink.fail_with = DingTalkThrottled(130101, "send too fast")
    with pytest.raises(DingTalkThrottled):
        asyncio.run(sink.send_text("three"))
    assert [m["msgtype"] for m in sink.messages] == ["text", "markdown"]
    assert sink.messages[1]["at"]["atMobiles"] == ["139"]
    assert repr(sink) == "MemoryAlertSink(messages=2)"
