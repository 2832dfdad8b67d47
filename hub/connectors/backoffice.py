"""What the WMS, ERP and CRM clients share: one JSON call over httpx with typed errors.

``BackOfficeUnavailable`` (no answer, timeout, 5xx, 429, unreadable body) is worth
retrying; ``BackOfficeRejected`` (4xx, or lines the back office refused) is not: the
request itself must change. Clients are async and take either an ``httpx.AsyncClient``
or a transport, so unit tests can use ``httpx.MockTransport`` or respx.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import httpx
import orjson

from hub.errors import OrderHubError

log = logging.getLogger("orderhub.connectors")
T = TypeVar("T")


class BackOfficeError(OrderHubError):
    retryable: ClassVar[bool] = False

    def __init__(self, system: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{system}: {message}")
        self.system, self.status = system, status


class BackOfficeUnavailable(BackOfficeError):
    """No answer, a timeout, HTTP 5xx / 429 or an unreadable body: retry later."""

    retryable = True


class BackOfficeRejected(BackOfficeError):
    """HTTP 4xx, or some lines refused. ``problems`` says why; ``rejected`` lists the
    refused lines' keys (the others of the same call were taken)."""

    def __init__(self, system: str, message: str, status: int | None = None,
                 problems: Sequence[str] = (), rejected: Sequence[str] = ()) -> None:
        super().__init__(system, message, status)
        self.problems, self.rejected = list(problems), list(rejected)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def refused_lines(system: str, results: Sequence[dict[str, Any]]) -> None:
    """Raise ``BackOfficeRejected`` when some result lines were rejected."""
    bad = [r for r in results if r.get("status") == "rejected"]
    if bad:
        raise BackOfficeRejected(system, f"{len(bad)} of {len(results)} lines refused",
                                 problems=[str(r.get("reason", "")) for r in bad],
                                 rejected=[str(r.get("key")) for r in bad])


class BackOfficeClient:
    """Base of the WMS, ERP and CRM clients."""

    system: ClassVar[str] = "back office"

    def __init__(self, base_url: str, *, timeout_s: float = 10.0,
                 http: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not base_url:
            raise ValueError(f"{self.system}: base_url is empty")
        self.base_url = base_url.rstrip("/")
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(transport=transport, timeout=timeout_s)
        self.stats: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def call(self, method: str, path: str, *, body: Any = None,
                   params: dict[str, Any] | None = None) -> Any:
        """One call; the answer's JSON, or a typed error."""
        self.stats["calls"] += 1
        try:
            answer = await self.http.request(
                method, f"{self.base_url}{path}", params=params,
                content=None if body is None else orjson.dumps(body),
                headers={"content-type": "application/json"} if body is not None else None)
        except httpx.HTTPError as exc:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: no answer "
                                                     f"({type(exc).__name__})") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: HTTP "
                                        f"{answer.status_code}", answer.status_code)
        try:
            data = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: HTTP "
                                        f"{answer.status_code}, body is not JSON",
                                        answer.status_code) from None
        if answer.status_code >= 400:
            self.stats["rejected"] += 1
            if isinstance(data, dict):
                problems = data.get("problems") or [str(data.get("error", ""))]
            else:
                problems = [str(data)[:200]]
            raise BackOfficeRejected(self.system, f"{method} {path}: HTTP "
                                     f"{answer.status_code}: {'; '.join(problems)[:300]}",
                                     answer.status_code, problems)
        return data

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> BackOfficeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
