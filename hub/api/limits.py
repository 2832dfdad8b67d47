"""What one client may send: a body size cap (413), a body read deadline (408), a rate
per source (429 with Retry-After), and a records-per-message cap for pushes and status
callbacks (413).

``RequestLimits`` is an ASGI middleware over the whole app (``create_app`` adds it):
it answers 429 before the app sees a request over its source's rate, 413 when the
Content-Length says too much, and otherwise wraps the receive channel so the body is
counted and timed as it arrives: a chunked or lying body is stopped at the cap, not
read whole first, and one not complete ``body_timeout_s`` after the app first asked for
it (however steadily it trickles) is answered 408.
``records_capped`` is a route dependency for the intake endpoints.

>>> bucket = TokenBucket(rate_per_s=2, burst=2, now=0.0)
>>> [bucket.take(0.0), bucket.take(0.0), bucket.take(0.0)]
[0.0, 0.0, 0.5]
>>> bucket.take(0.5)
0.0
>>> records_in([{"tid": 1}, {"tid": 2}]), records_in({"data": {"list": [1, 2, 3]}})
(2, 3)
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.config import ApiConfig
from hub.domain.adapters import ADAPTERS

BUCKETS_MAX = 10_000  # sources remembered at once; past it, full buckets are dropped
ENVELOPE_DEPTH = 4  # how deep records_in looks through a message's objects for its list


@dataclass(frozen=True)
class Limits:
    """The ``[api]`` limits (``ApiConfig``); a rate of 0 turns that rate limit off."""

    max_body_bytes: int
    body_timeout_s: float
    max_records: int
    rate_per_s: float
    rate_burst: int
    push_rate_per_s: float
    push_rate_burst: int

    @classmethod
    def of(cls, api: ApiConfig | None = None) -> Limits:
        """``api``'s limits, or the defaults."""
        api = api or ApiConfig()
        return cls(max_body_bytes=api.max_body_bytes, body_timeout_s=api.body_timeout_s,
                   max_records=api.max_records, rate_per_s=api.rate_per_s,
                   rate_burst=api.rate_burst, push_rate_per_s=api.push_rate_per_s,
                   push_rate_burst=api.push_rate_burst)


class TokenBucket:
    """``burst`` tokens, refilled at ``rate_per_s``; ``take`` spends one, or says how
    many seconds until one is there (and spends nothing)."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate_per_s, burst
        self.tokens, self.stamp = float(burst), now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, now: float) -> float:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class RateLimiter:
    """One token bucket per key (a client address, a marketplace channel)."""

    def __init__(self, rate_per_s: float, burst: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_s, self.burst, self.now = rate_per_s, burst, now
        self._buckets: dict[Hashable, TokenBucket] = {}
        self.refused = 0

    def wait_s(self, key: Hashable) -> float:
        """0 if ``key`` may go now (a token is spent), else the seconds to wait."""
        if self.rate_per_s <= 0:
            return 0.0
        now = self.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= BUCKETS_MAX:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full(now)}
            bucket = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst, now)
        wait = bucket.take(now)
        self.refused += wait > 0
        return wait


class BodyRefused(HTTPException):
    """Raised from the receive channel; FastAPI passes an ``HTTPException`` raised while
    a body is read through unchanged, so the client gets this status, not a 400."""


class RequestLimits:
    """The ASGI middleware: rates, body size and body deadline (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: Limits,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.app, self.limits = app, limits
        self.by_source = RateLimiter(limits.rate_per_s, limits.rate_burst, now)
        self.by_channel = RateLimiter(limits.push_rate_per_s, limits.push_rate_burst, now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        body = _LimitedBody(receive, send, self.limits)
        try:
            await self.app(scope, body.receive, body.send)
        except BodyRefused as exc:  # raised past the app's own handlers: answer it here
            if body.answered:
                raise
            await _refused(exc.status_code, exc.detail)(scope, receive, send)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        client = scope.get("client")
        wait = self.by_source.wait_s(client[0] if client else "")
        path: str = scope.get("path", "")
        if not wait and path.startswith("/push/"):
            channel = path.removeprefix("/push/").split("/", 1)[0]
            if channel in ADAPTERS:
                wait = self.by_channel.wait_s(channel)
                if wait:
                    return _refused(429, f"too many pushes from {channel}: at most "
                                    f"{self.limits.push_rate_per_s:g}/s",
                                    {"Retry-After": str(max(1, math.ceil(wait)))})
        if wait:
            return _refused(429, f"too many requests from this address: at most "
                            f"{self.limits.rate_per_s:g}/s",
                            {"Retry-After": str(max(1, math.ceil(wait)))})
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            return _refused(413, _too_large(self.limits))
        return None


def _too_large(limits: Limits) -> str:
    return f"request body larger than max_body_bytes ({limits.max_body_bytes} bytes)"


def _refused(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class _LimitedBody:
    """The receive channel of one request, counting and timing its body."""

    def __init__(self, receive: Receive, send: Send, limits: Limits) -> None:
        self._receive, self._send, self.limits = receive, send, limits
        self.deadline: float | None = None  # from when the app first asks for the body
        self.size = 0
        self.complete = False
        self.answered = False

    async def receive(self) -> Message:
        if self.complete:  # past the body: e.g. a response waiting for a disconnect
            return await self._receive()
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.body_timeout_s
        try:
            message = await asyncio.wait_for(self._receive(),
                                             max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            raise BodyRefused(408, "request body not received within body_timeout_s "
                                   f"({self.limits.body_timeout_s:g} s)") from None
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limits.max_body_bytes:
                raise BodyRefused(413, _too_large(self.limits))
            self.complete = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        self.answered = True
        await self._send(message)


def records_in(payload: Any, depth: int = ENVELOPE_DEPTH) -> int:
    """How many records a message carries: a list's length, or for an object the longest
    list among its values (looking ``depth`` objects deep, as a response page nests its
    orders, e.g. ``{"data": {"shop_order_list": [...]}}``); a lone object is one."""
    if isinstance(payload, list):
        return len(payload)
    if not isinstance(payload, dict) or depth == 0:
        return 1
    inner = [records_in(v, depth - 1) for v in payload.values() if isinstance(v, list | dict)]
    return max(inner, default=1)


_UNREAD = object()


def json_body(request: Request, raw: bytes) -> Any:
    """The request's JSON as ``records_capped`` parsed it (or parsed now: raises
    ``orjson.JSONDecodeError`` when ``raw`` is not JSON)."""
    found = getattr(request.state, "json_body", _UNREAD)
    return orjson.loads(raw) if found is _UNREAD else found


async def records_capped(request: Request) -> None:
    """Route dependency: 413 when the JSON body carries more than ``max_records``
    records. A body that is not JSON is left to the handler to refuse."""
    limits: Limits = getattr(request.app.state, "limits", None) or Limits.of()
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return
    request.state.json_body = payload  # the handler reads it again from here, not the bytes
    count = records_in(payload)
    if count > limits.max_records:
        raise HTTPException(413, f"{count} records in one message; max_records is "
                                 f"{limits.max_records}")
