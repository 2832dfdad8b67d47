"""DingTalk robot emulator over loopback, through the hub's robot client: the real
signature, its one-hour freshness, and 20 messages a minute then 10 minutes throttled."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import urllib.parse
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from hub.clock import ManualClock
from hub.connectors.dingtalk import (
    DingTalkError,
    DingTalkRobot,
    DingTalkSignError,
    DingTalkThrottled,
    DingTalkTokenError,
    sign,
)
from hub.domain.order import SHANGHAI
from sim.emulators.dingtalk import DingTalkEmulator, DingTalkEmulatorConfig, RobotConfig
from tests.sim.backoffice_helpers import Blocking, local_sync_http

T0 = datetime(2026, 11, 11, 9, tzinfo=SHANGHAI)
TOKEN, SECRET = "tok-ops", "SEC0123456789abcdef"
ROBOTS = DingTalkEmulatorConfig(robots=[
    RobotConfig(name="ops", access_token=SecretStr(TOKEN), secret=SecretStr(SECRET)),
    RobotConfig(name="plain", access_token=SecretStr("tok-plain"), keywords=["OrderHub"])])

HTTP = local_sync_http()  # one pool for the whole module


def reference_sign(secret: str, timestamp: int) -> str:
    """DingTalk's documented Python sample, written out independently."""
    string_to_sign = f"{timestamp}\n{secret}"
    code = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"),
                    digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(code))


def ms(clock: ManualClock, shift_s: float = 0) -> int:
    return int((clock.now().timestamp() + shift_s) * 1000)


def robot(url: str, clock: ManualClock, *, token: str = TOKEN, secret: str = SECRET,
          shift_s: float = 0) -> Blocking:
    return Blocking(DingTalkRobot, url, token, secret, now_ms=lambda: ms(clock, shift_s))


def messages(url: str) -> list[dict]:
    return HTTP.get(f"{url}/_messages").json()["messages"]


def test_sign_is_dingtalks() -> None:
    for timestamp in (1700000000000, 1790000000123):
        assert sign(SECRET, timestamp) == reference_sign(SECRET, timestamp)


def test_accepted_messages_are_recorded_in_the_real_formats() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu, robot(emu.url, clock) as ops:
        ops.send_text("3 orders held", at_mobiles=["13800001111"])
        ops.send_markdown("OrderHub 异常订单", "### 2 单\n- tmall T1", at_all=True)
        raw = HTTP.post(f"{emu.url}/robot/send", params={"access_token": "tok-plain"},
                         json={"msgtype": "text", "text": {"content": "OrderHub up"},
                               "at": {"atMobiles": ["13900002222"], "isAtAll": False}}).json()
        recorded = messages(emu.url)
        only_ops = HTTP.get(f"{emu.url}/_messages", params={"robot": "ops"}).json()
    assert raw == {"errcode": 0, "errmsg": "ok"}
    assert [(m["robot"], m["msgtype"]) for m in recorded] == [
        ("ops", "text"), ("ops", "markdown"), ("plain", "text")]
    assert recorded[0]["text"] == "3 orders held"
    assert recorded[0]["at_mobiles"] == ["13800001111"] and not recorded[0]["is_at_all"]
    assert recorded[1]["title"] == "OrderHub 异常订单" and recorded[1]["is_at_all"]
    assert recorded[2]["at_mobiles"] == ["13900002222"]
    assert recorded[0]["at"] == T0.isoformat()
    assert len(only_ops["messages"]) == 2


def test_bad_signature_wrong_token_and_stale_timestamp_are_refused() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu:
        with robot(emu.url, clock, secret="SECwrong") as forged, \
                pytest.raises(DingTalkSignError) as bad_sign:
            forged.send_text("x")
        with robot(emu.url, clock, token="tok-nobody") as stranger, \
                pytest.raises(DingTalkTokenError) as bad_token:
            stranger.send_text("x")
        with robot(emu.url, clock, shift_s=-3601) as stale, \
                pytest.raises(DingTalkSignError) as too_old:
            stale.send_text("x")
        with robot(emu.url, clock, shift_s=3601) as future, pytest.raises(DingTalkSignError):
            future.send_text("x")
        with robot(emu.url, clock, shift_s=-3500) as late_but_fresh:
            late_but_fresh.send_text("fresh enough")
        unsigned = HTTP.post(f"{emu.url}/robot/send", params={"access_token": TOKEN},
                              json={"msgtype": "text", "text": {"content": "x"}}).json()
        recorded = messages(emu.url)
    assert (bad_sign.value.errcode, bad_sign.value.errmsg) == (310000, "sign not match")
    assert (bad_token.value.errcode, bad_token.value.errmsg) == (300001, "token is not exist")
    assert (too_old.value.errcode, too_old.value.errmsg) == (310000, "invalid timestamp")
    assert unsigned == {"errcode": 310000, "errmsg": "invalid timestamp"}
    assert [m["text"] for m in recorded] == ["fresh enough"]


def test_the_21st_message_in_a_minute_is_refused_and_the_robot_stays_throttled() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu, robot(emu.url, clock) as ops:
        for n in range(20):
            ops.send_text(f"alert {n}")
            clock.advance(2.5)  # 20 messages within 50 s
        with pytest.raises(DingTalkThrottled) as throttled:
            ops.send_text("alert 21")
        clock.advance(60)  # the minute has passed, but the 10-minute throttle holds
        with pytest.raises(DingTalkThrottled):
            ops.send_text("still throttled")
        state = HTTP.get(f"{emu.url}/_robots").json()["robots"][0]
        clock.advance(600 - 60 + 1)
        ops.send_text("after the throttle")
        recorded = messages(emu.url)
        stats = HTTP.get(f"{emu.url}/_stats").json()
    assert throttled.value.errcode == 130101
    assert throttled.value.errmsg == "send too fast, exceed 20 times per minute"
    assert throttled.value.retryable
    assert state["throttled_until"] == (T0 + timedelta(seconds=50 + 600)).isoformat()
    assert len(recorded) == 21 and recorded[-1]["text"] == "after the throttle"
    assert stats["errors"]["130101"] == 2


def test_keywords_and_message_shapes() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu, \
            robot(emu.url, clock, token="tok-plain", secret="") as plain:
        with pytest.raises(DingTalkSignError, match="keywords not in content"):
            plain.send_text("no key word here")
        with pytest.raises(DingTalkError) as image:
            plain.send({"msgtype": "image", "image": {"picURL": "x"}})
        with pytest.raises(DingTalkError) as empty:
            plain.send({"msgtype": "markdown", "markdown": {"title": "OrderHub"}})
        not_json = HTTP.post(f"{emu.url}/robot/send", params={"access_token": "tok-plain"},
                              content=b"{oops").json()
        plain.send_markdown("OrderHub", "### ok")
        recorded = messages(emu.url)
    assert image.value.errcode == 40035 and "image" in image.value.errmsg
    assert empty.value.errcode == 40035 and "markdown.title and markdown.text" in \
        empty.value.errmsg
    assert not_json["errcode"] == 40035
    assert [(m["msgtype"], m["text"]) for m in recorded] == [("markdown", "### ok")]


def test_messages_can_be_cleared() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu, robot(emu.url, clock) as ops:
        ops.send_text("one")
        cleared = HTTP.delete(f"{emu.url}/_messages").json()
        after = messages(emu.url)
    assert cleared == {"cleared": 1} and after == []


def test_records_keep_every_message_refused_ones_with_their_errcode() -> None:
    clock = ManualClock(T0)
    with DingTalkEmulator(clock, ROBOTS) as emu, robot(emu.url, clock) as ops:
        for n in range(21):  # the 21st is refused: too fast
            with contextlib.suppress(DingTalkThrottled):
                ops.send_markdown("OrderHub 异常订单", f"- tmall T{n} (P1): incomplete_address")
        with robot(emu.url, clock, secret="SECwrong") as forged, \
                pytest.raises(DingTalkSignError):
            forged.send_text("forged")
        with robot(emu.url, clock, token="tok-nobody") as stranger, \
                pytest.raises(DingTalkTokenError):
            stranger.send_text("stranger")
        HTTP.post(f"{emu.url}/_control/faults", json={"kind": "5xx", "count": 1})
        with pytest.raises(DingTalkError):
            ops.send_text("during a fault")
        HTTP.delete(f"{emu.url}/_messages")  # clears the accepted list, not the records
        records = HTTP.get(f"{emu.url}/_records").json()["messages"]
    assert [m["seq"] for m in records] == list(range(1, 25))
    assert sum(m["accepted"] for m in records) == 20
    refused = [(m["robot"], m["errcode"], m["errmsg"], m["text"]) for m in records
               if not m["accepted"]]
    assert refused[:3] == [
        ("ops", 130101, "send too fast, exceed 20 times per minute",
         "- tmall T20 (P1): incomplete_address"),
        ("ops", 310000, "sign not match", "forged"),
        (None, 300001, "token is not exist", "stranger")]
    assert refused[3][1] is None and refused[3][2].startswith("HTTP 5")
    first = records[0]
    assert set(first) >= {"seq", "at", "robot", "accepted", "errcode", "errmsg", "msgtype",
                          "title", "text"}
    assert (first["msgtype"], first["title"], first["errcode"], first["at"]) == (
        "markdown", "OrderHub 异常订单", 0, T0.isoformat())
