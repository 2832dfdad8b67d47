"""The one HTTP exchange the connectors make, behind a small port (:class:`Http`).

The hub's own clients speak through aiohttp (:class:`AiohttpHttp`): its C parser and
single write per request cost a fraction of the CPU of httpx's stack for the same
exchange, and the pullers make one for every page of every window. A client handed an
``httpx.AsyncClient`` or an httpx transport (unit tests with ``httpx.MockTransport`` or
respx, a caller's own proxy set-up) speaks through :class:`HttpxHttp` instead.

Both answer an :class:`Answer` or raise :class:`HttpTimeout` or
:class:`HttpUnreachable`; neither follows redirects, and each client turns these into
its own typed errors.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self
from urllib.parse import urlencode

import aiohttp
import certifi
import httpx
import yarl

from hub.errors import OrderHubError

Params = Mapping[str, str]
Headers = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: ``headers`` look names up case-insensitively."""

    status: int
    content: bytes
    headers: Mapping[str, str]


class HttpFailed(OrderHubError):
    """No answer; ``cause`` names the underlying error's class (never the URL, which
    may carry a token)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class HttpTimeout(HttpFailed):
    """Connecting or waiting for the answer took longer than the timeout."""


class HttpUnreachable(HttpFailed):
    """Refused, reset, closed mid-answer, or the answer was not HTTP."""


class Http(Protocol):
    async def request(self, method: str, url: str, *, params: Params | None = None,
                      content: bytes | None = None, headers: Headers | None = None,
                      timeout: float | None = None) -> Answer: ...

    async def aclose(self) -> None: ...


def with_query(url: str, params: Params | None) -> str:
    """``url`` with ``params`` appended as its query (form-encoded)."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


@functools.cache
def _tls() -> ssl.SSLContext:
    """Certificates checked against certifi's authorities, as httpx checks them (a slim
    image's system store may be empty); made once a process, on first use."""
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpHttp:
    """One aiohttp session, made in the event loop of the first request (a session is
    bound to its loop, and a client is built before its actor's loop runs)."""

    def __init__(self, timeout_s: float = 10.0, max_connections: int = 100) -> None:
        self.timeout_s, self.max_connections = timeout_s, max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> aiohttp.ClientSession:
        session, loop = self._session, asyncio.get_running_loop()
        if session is None or session.closed or loop is not self._loop:
            # a session is bound to its loop: a client used from a new loop gets a new one
            self._loop = loop
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, ssl=_tls()),
                trust_env=False, raise_for_status=False)
        return session

    async def request(self, method: str, url: str, *, params: Params | None = None,
                      content: bytes | None = None, headers: Headers | None = None,
                      timeout: float | None = None) -> Answer:
        seconds = self.timeout_s if timeout is None else timeout
        limits = aiohttp.ClientTimeout(total=None, connect=seconds, sock_connect=seconds,
                                       sock_read=seconds)
        try:
            async with self._open().request(
                    method, yarl.URL(with_query(url, params), encoded=True), data=content,
                    headers=headers, allow_redirects=False, timeout=limits) as answer:
                return Answer(answer.status, await answer.read(), answer.headers)
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise HttpTimeout(type(exc).__name__) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise HttpUnreachable(type(exc).__name__) from None

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class HttpxHttp:
    """An ``httpx.AsyncClient`` behind the port; ``own``: closed by ``aclose``."""

    def __init__(self, client: httpx.AsyncClient, *, own: bool = False) -> None:
        self.client, self.own = client, own

    async def request(self, method: str, url: str, *, params: Params | None = None,
                      content: bytes | None = None, headers: Headers | None = None,
                      timeout: float | None = None) -> Answer:
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            answer = await self.client.request(method, with_query(url, params),
                                               content=content, headers=headers, **extra)
        except httpx.TimeoutException as exc:
            raise HttpTimeout(type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise HttpUnreachable(type(exc).__name__) from None
        return Answer(answer.status_code, answer.content, answer.headers)

    async def aclose(self) -> None:
        if self.own:
            await self.client.aclose()


def http_for(http: httpx.AsyncClient | Http | None = None,
             transport: httpx.AsyncBaseTransport | None = None,
             timeout_s: float = 10.0) -> tuple[Http, bool]:
    """The port for a client's ``http`` / ``transport`` arguments, and whether the
    client owns it (closes it): aiohttp when neither is given."""
    if http is None and transport is None:
        return AiohttpHttp(timeout_s), True
    if http is None:
        return HttpxHttp(httpx.AsyncClient(transport=transport, timeout=timeout_s),
                         own=True), True
    if isinstance(http, httpx.AsyncClient):
        return HttpxHttp(http), False
    return http, False


class HttpHolder:
    """What a connector speaking through the port shares: the port for its ``http`` /
    ``transport`` arguments (``http_for``), closed by ``aclose`` when the connector made
    it, and ``async with``."""

    http: Http
    _own_http: bool

    def _hold_http(self, http: httpx.AsyncClient | Http | None,
                   transport: httpx.AsyncBaseTransport | None, timeout_s: float) -> None:
        self.http, self._own_http = http_for(http, transport, timeout_s)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
