"""DingTalk custom group robot: where held orders are announced.

``AlertSink`` is the interface the relay talks to (``send_text``, ``send_markdown``);
it has two forms, as httpx has ``BaseTransport`` and ``MockTransport``: the real
``DingTalkRobot`` (signed HTTP calls) and ``MemoryAlertSink`` (keeps the messages in a
list, for tests and dry runs).

The robot's signature: ``string_to_sign = f"{timestamp}\\n{secret}"``, HMAC-SHA256 keyed
with the secret, base64, then URL-encoded; ``timestamp`` (ms) and ``sign`` go in the
query string next to ``access_token``. DingTalk answers HTTP 200 with ``errcode``: 0 ok,
300001 unknown token, 310000 bad or stale signature (or keywords / IP not allowed),
130101 over 20 messages a minute (the robot is then throttled for 10 minutes).

The token and the secret never reach a log or a repr; this module also masks them in
httpx's own request log lines.

>>> sign("SECdemo", 1700000000000)
'lOvVf9TQCVugV68mGbSZCg0gzOl1SVjxWi1MyVZCUuA%3D'
>>> import asyncio
>>> sink = MemoryAlertSink()
>>> asyncio.run(sink.send_markdown("OrderHub", "### 3 held", at_mobiles=["13800000000"]))
>>> sink.messages[0]["msgtype"], sink.messages[0]["at"]["atMobiles"]
('markdown', ['13800000000'])
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import httpx
import orjson
from pydantic import SecretStr

from hub.connectors._http import Http, HttpFailed, HttpHolder
from hub.errors import OrderHubError

log = logging.getLogger("orderhub.connectors.dingtalk")

OK, TOKEN_UNKNOWN, SIGN_REFUSED, TOO_FAST = 0, 300001, 310000, 130101
_SECRET_QUERY = re.compile(r"(access_token|sign)=[^&\s\"]+")


def signature(secret: str, timestamp_ms: int) -> str:
    """The base64 HMAC-SHA256 of ``f"{timestamp}\\n{secret}"`` keyed with the secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value: the signature, URL-encoded."""
    return quote_plus(signature(secret, timestamp_ms))


def text_message(content: str, at_mobiles: Sequence[str] = (), at_all: bool = False) -> dict:
    return {"msgtype": "text", "text": {"content": content},
            "at": {"atMobiles": list(at_mobiles), "isAtAll": at_all}}


def markdown_message(title: str, text: str, at_mobiles: Sequence[str] = (),
                     at_all: bool = False) -> dict:
    """A markdown message. DingTalk only notifies an @mobile named in the text too, so
    missing ``@mobile`` mentions are appended."""
    missing = [m for m in at_mobiles if f"@{m}" not in text]
    if missing:
        text = f"{text}\n\n" + " ".join(f"@{m}" for m in missing)
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text},
            "at": {"atMobiles": list(at_mobiles), "isAtAll": at_all}}


# -- errors -------------------------------------------------------------------------------
class DingTalkError(OrderHubError):
    """The robot refused a message; ``errcode`` / ``errmsg`` are DingTalk's."""

    retryable: ClassVar[bool] = False

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"DingTalk errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class DingTalkThrottled(DingTalkError):
    """130101: over 20 messages a minute; the robot stays throttled for 10 minutes."""

    retryable = True


class DingTalkSignError(DingTalkError):
    """310000: bad or stale signature (or keywords / IP whitelist): fix the config."""


class DingTalkTokenError(DingTalkError):
    """300001: no robot with this access token."""


class DingTalkUnavailable(DingTalkError):
    """No answer, a timeout, a 5xx or an unreadable body: worth retrying later."""

    retryable = True


def error_for(errcode: int, errmsg: str) -> DingTalkError:
    kind = {TOO_FAST: DingTalkThrottled, SIGN_REFUSED: DingTalkSignError,
            TOKEN_UNKNOWN: DingTalkTokenError}.get(errcode, DingTalkError)
    return kind(errcode, errmsg)


# -- the interface and its two forms ------------------------------------------------------
class AlertSink(ABC):
    """Where alert messages go. Subclasses implement ``send(message)`` with a message in
    DingTalk's robot format; the helpers build that message."""

    @abstractmethod
    async def send(self, message: dict[str, Any]) -> None:
        """Deliver one message or raise ``DingTalkError``."""

    async def send_text(self, content: str, *, at_mobiles: Sequence[str] = (),
                        at_all: bool = False) -> None:
        await self.send(text_message(content, at_mobiles, at_all))

    async def send_markdown(self, title: str, text: str, *, at_mobiles: Sequence[str] = (),
                            at_all: bool = False) -> None:
        await self.send(markdown_message(title, text, at_mobiles, at_all))

    async def aclose(self) -> None:
        return None


class MemoryAlertSink(AlertSink):
    """Keeps every message in ``messages``. ``fail_with`` (an exception) makes the next
    sends raise it, to drive a caller's error path."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None

    async def send(self, message: dict[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.messages.append(message)

    def __repr__(self) -> str:
        return f"MemoryAlertSink(messages={len(self.messages)})"


class DingTalkRobot(HttpHolder, AlertSink):
    """One custom robot: ``POST {base_url}/robot/send?access_token=..&timestamp=..&sign=..``.

    ``base_url`` is e.g. ``http://127.0.0.1:PORT`` (the emulator) or DingTalk's open API
    host; ``secret`` empty means the robot is not signed. ``now_ms`` is injected for
    tests (default: the wall clock, as DingTalk checks the timestamp against its own)."""

    def __init__(self, base_url: str, access_token: str | SecretStr,
                 secret: str | SecretStr = "", *, timeout_s: float = 10.0,
                 http: httpx.AsyncClient | Http | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 now_ms: Callable[[], int] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = access_token if isinstance(access_token, SecretStr) else \
            SecretStr(access_token)
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self._hold_http(http, transport, timeout_s)
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self.sent = 0

    def __repr__(self) -> str:
        return f"DingTalkRobot(base_url={self.base_url!r}, signed={self.signed})"

    @property
    def signed(self) -> bool:
        return bool(self._secret.get_secret_value())

    def url(self) -> str:
        """The signed webhook address for a send now (contains secrets: never log it)."""
        url = f"{self.base_url}/robot/send?access_token=" \
              f"{quote(self._token.get_secret_value(), safe='')}"
        if self.signed:
            now = self._now_ms()
            url += f"&timestamp={now}&sign={sign(self._secret.get_secret_value(), now)}"
        return url

    async def send(self, message: dict[str, Any]) -> None:
        try:
            answer = await self.http.request("POST", self.url(),
                                             content=orjson.dumps(message),
                                             headers={"content-type":
                                                      "application/json;charset=utf-8"})
        except HttpFailed as exc:  # names the error's class, never the URL
            raise DingTalkUnavailable(-1, f"no answer: {exc.cause}") from None
        if answer.status >= 500:
            raise DingTalkUnavailable(-1, f"HTTP {answer.status}")
        try:
            body = orjson.loads(answer.content)
            errcode, errmsg = int(body.get("errcode", -1)), str(body.get("errmsg", ""))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            raise DingTalkUnavailable(-1, f"HTTP {answer.status}, body is not the "
                                          f"robot's JSON answer") from None
        if errcode != OK:
            log.warning("DingTalk robot refused a %s message: errcode %d %s",
                        message.get("msgtype"), errcode, errmsg)
            raise error_for(errcode, errmsg)
        self.sent += 1


class _MaskSecrets(logging.Filter):
    """httpx logs each request's URL at INFO; the robot's carries its token and sign."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and "robot/send" in str(record.args):
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_SECRET_QUERY.sub(r"\1=***", str(a)) if "robot/send" in
                                str(a) else a for a in args)
        return True


logging.getLogger("httpx").addFilter(_MaskSecrets())
