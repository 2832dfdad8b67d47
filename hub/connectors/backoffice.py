"""What the WMS, ERP and CRM clients share: one JSON call over HTTP with typed errors.

``BackOfficeUnavailable`` (no answer, timeout, 5xx, 429, unreadable body) is worth
retrying; ``BackOfficeRejected`` (4xx, or lines the back office refused) is not: the
request itself must change. Clients are async and speak through aiohttp, or through an
``httpx.AsyncClient`` or transport when given one, so unit tests can use
``httpx.MockTransport`` or respx (``hub.connectors._http``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import httpx
import orjson

from hub.connectors._http import Http, HttpFailed, HttpHolder
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


JSON = {"content-type": "application/json"}


def _texts(params: dict[str, Any] | None) -> dict[str, str] | None:
    """Query values as text, as httpx writes them (booleans lower-case, None empty)."""
    if not params:
        return None
    return {k: ("true" if v else "false") if isinstance(v, bool) else "" if v is None
            else str(v) for k, v in params.items()}


class BackOfficeClient(HttpHolder):
    """Base of the WMS, ERP and CRM clients."""

    system: ClassVar[str] = "back office"

    def __init__(self, base_url: str, *, timeout_s: float = 10.0,
                 http: httpx.AsyncClient | Http | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not base_url:
            raise ValueError(f"{self.system}: base_url is empty")
        self.base_url = base_url.rstrip("/")
        self._hold_http(http, transport, timeout_s)
        self.stats: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def call(self, method: str, path: str, *, body: Any = None,
                   params: dict[str, Any] | None = None) -> Any:
        """One call; the answer's JSON, or a typed error."""
        self.stats["calls"] += 1
        try:
            answer = await self.http.request(
                method, f"{self.base_url}{path}", params=_texts(params),
                content=None if body is None else orjson.dumps(body),
                headers=JSON if body is not None else None)
        except HttpFailed as exc:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: no answer "
                                                     f"({exc.cause})") from None
        status = answer.status
        if status >= 500 or status == 429:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: HTTP "
                                        f"{status}", status)
        try:
            data = orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            self.stats["unavailable"] += 1
            raise BackOfficeUnavailable(self.system, f"{method} {path}: HTTP "
                                        f"{status}, body is not JSON",
                                        status) from None
        if status >= 400:
            self.stats["rejected"] += 1
            if isinstance(data, dict):
                problems = data.get("problems") or [str(data.get("error", ""))]
            else:
                problems = [str(data)[:200]]
            raise BackOfficeRejected(self.system, f"{method} {path}: HTTP "
                                     f"{status}: {'; '.join(problems)[:300]}",
                                     status, problems)
        return data

