"""The marketplace clients' common part (``hub.connectors.marketplace`` is the public
face): a modified-time window split at the marketplace's maximum span, pages followed
(last to first when the first tells the total), each request signed by the subclass,
throttling, 5xx, timeouts and refused connections retried with backoff and jitter.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import orjson
from pydantic import SecretStr

from hub.connectors._http import Answer, Http, HttpFailed, HttpHolder, HttpTimeout
from hub.connectors.retry import (
    AuthError,
    MarketplaceClientError,
    RequestRejected,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from hub.domain.adapters.common import MarketplaceError, Page, ParseError
from hub.domain.adapters.fast_path import Known
from hub.domain.order import SHANGHAI, OrderStatus

log = logging.getLogger("orderhub.connectors.marketplace")
FMT = "%Y-%m-%d %H:%M:%S"
MAX_PAGES = 100_000
def _secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


def _ceil(moment: datetime) -> datetime:
    floor = _floor(moment)
    return floor if floor == moment else floor + timedelta(seconds=1)


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(microsecond=0)


class MarketplaceClient(HttpHolder):
    """The common half; subclasses build the signed request and read the answer."""

    channel: ClassVar[str] = ""
    first_page: ClassVar[int] = 1
    max_span: ClassVar[timedelta] = timedelta(days=1)
    auth_codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, base_url: str, app_key: str, app_secret: str | SecretStr,
                 access_token: str | SecretStr, *, shop: str = "", page_size: int = 100,
                 timeout_s: float = 10.0, retry: RetryPolicy | None = None,
                 http: httpx.AsyncClient | Http | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 seed: int | None = None) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be in 1..100, got {page_size}")
        self.base_url = base_url.rstrip("/")
        self.app_key, self.shop, self.page_size = app_key, shop, page_size
        self._app_secret, self._access_token = _secret(app_secret), _secret(access_token)
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._hold_http(http, transport, timeout_s)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.stats: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(base_url={self.base_url!r}, app_key={self.app_key!r}, "
                f"shop={self.shop!r})")

    # -- the public calls ----------------------------------------------------------------
    async def fetch_window(self, start: datetime, end: datetime, *,
                           known: Known | None = None) -> AsyncIterator[Page]:
        """Every page of orders modified in ``[start, end)`` (whole seconds, ``end``
        rounded up). ``known`` ((shop, order id) -> the version the caller holds): records at
        that version are listed in ``Page.known``, not converted (on the typed path).

        Orders leave a window while it is paged (a new version moves them past its end),
        and with page numbers that shifts the rest forward: paging first-to-last would
        skip one record per departure. So when the first page tells the total, the
        pages after it are read last to first (a departure then only repeats a record,
        which the ledger ignores) and the first page is read again at the end for the
        records that moved onto it."""
        # whole seconds, the end rounded up: the current second's orders come now, and
        # any that land in it later are in the next window's overlap
        start, end = _floor(start), _ceil(end)
        while start < end:
            stop = min(end, start + self.max_span)
            first = await self.fetch_page(start, stop, self.first_page, known)
            if not first.has_next or not (first.orders or first.quarantined or first.known):
                yield first
            elif first.total is None:
                async for page in self._forward(start, stop, first, known):
                    yield page
            else:
                yield first
                async for page in self._backward(start, stop, first, known):
                    yield page
            start = stop

    def _last_page(self, total: int) -> int:
        return self.first_page + max(0, (total - 1) // self.page_size)

    async def _backward(self, start: datetime, stop: datetime, first: Page,
                        known: Known | None) -> AsyncIterator[Page]:
        total = first.total or 0
        last = self._last_page(total)
        for page_no in range(min(last, self.first_page + MAX_PAGES - 1), self.first_page, -1):
            yield await self.fetch_page(start, stop, page_no, known)
        again = await self.fetch_page(start, stop, self.first_page, known)
        grown = self._last_page(again.total or total)
        for page_no in range(last + 1, min(grown, self.first_page + MAX_PAGES - 1) + 1):
            yield await self.fetch_page(start, stop, page_no, known)  # late arrivals at the end
        self.stats["backward_windows"] += 1
        had = {(o.order_id, o.modified_at) for o in first.orders}
        had.update(first.known)
        raws = [q.raw for q in first.quarantined]
        yield Page([o for o in again.orders if (o.order_id, o.modified_at) not in had],
                   [q for q in again.quarantined if q.raw not in raws], False, again.total,
                   [version for version in again.known if version not in had])

    async def _forward(self, start: datetime, stop: datetime, first: Page,
                       known: Known | None) -> AsyncIterator[Page]:
        page, page_no = first, self.first_page
        for _ in range(MAX_PAGES):
            yield page
            if not page.has_next or not (page.orders or page.quarantined or page.known):
                return
            page_no += 1
            page = await self.fetch_page(start, stop, page_no, known)

    async def fetch_page(self, start: datetime, end: datetime, page_no: int,
                         known: Known | None = None) -> Page:
        """One page, retried through throttling and server errors."""
        attempt = 0
        while True:
            try:
                page = await self._attempt(start, end, page_no, known)
                self.stats["pages"] += 1
                self.stats["known_not_converted"] += len(page.known)
                return page
            except (ServerError, ThrottledError) as exc:
                kind = "throttled" if isinstance(exc, ThrottledError) else "server_errors"
                self.stats[kind] += 1
                if attempt >= self.retry.max_retries:
                    log.warning("%s page %d: giving up after %d retries: %s", self.channel,
                                page_no, attempt, exc)
                    raise
                delay = self.retry.delay(attempt, self._rng)
                if isinstance(exc, ThrottledError) and exc.retry_after:
                    delay = max(delay, exc.retry_after)
                attempt += 1
                self.stats["retries"] += 1
                log.info("%s page %d: %s; retry %d in %.2fs", self.channel, page_no, exc,
                         attempt, delay)
                await self._sleep(delay)
            except AuthError:
                self.stats["auth_errors"] += 1
                raise

    # -- current status by order id (the reconciler) ----------------------------------------
    lookup_concurrency: ClassVar[int] = 4  # by-id calls in flight at once

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, str]:
        """The marketplace's current status of each order (an ``OrderStatus`` value), by
        its by-id API, one call per order, a few at a time. Orders it does not know are
        left out. When it still throttles or fails after the retries, the answers so far
        are returned: the quota is spent, the rest wait for the next round."""
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(order_ids))
        for start in range(0, len(ids), self.lookup_concurrency):
            part = ids[start:start + self.lookup_concurrency]
            got = await asyncio.gather(*(self._status_of(i) for i in part),
                                       return_exceptions=True)
            stop = False
            for order_id, answer in zip(part, got, strict=True):
                if isinstance(answer, ThrottledError | ServerError):
                    stop = True
                elif isinstance(answer, BaseException):
                    raise answer
                elif answer is not None:
                    out[order_id] = answer
            if stop:
                self.stats["lookup_stopped"] += 1
                log.info("%s: status lookups stopped after %d of %d (quota or outage)",
                         self.channel, len(out), len(ids))
                break
        return out

    async def _status_of(self, order_id: str) -> str | None:
        attempt = 0
        while True:
            try:
                self.stats["lookups"] += 1
                payload = await self._call(*self._lookup_request(order_id))
                found = self._lookup_status(payload)
                return found.value if found is not None else None
            except (ServerError, ThrottledError) as exc:
                if attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, self._rng)
                if isinstance(exc, ThrottledError) and exc.retry_after:
                    delay = max(delay, exc.retry_after)
                attempt += 1
                await self._sleep(delay)
            except RequestRejected:
                self.stats["lookup_unknown"] += 1
                return None

    def _lookup_request(self, order_id: str) -> tuple[str, dict]:
        raise NotImplementedError(f"{self.channel}: no by-id status lookup")

    def _lookup_status(self, payload: Any) -> OrderStatus | None:
        raise NotImplementedError

    def _raise(self, check: Callable[[dict], None], payload: Any) -> dict:
        if not isinstance(payload, dict):
            raise ServerError(self.channel, "the answer is not a JSON object")
        try:
            check(payload)
        except MarketplaceError as err:
            raise self._classify(err) from None
        return payload

    # -- one attempt ---------------------------------------------------------------------
    async def _attempt(self, start: datetime, end: datetime, page_no: int,
                       known: Known | None = None) -> Page:
        payload = await self._call(*self._request(start, end, page_no), decode=self._decode)
        return await self._page(payload, page_no, known)

    def _decode(self, blob: bytes) -> Any:
        """A page's bytes for ``_page``: the plain JSON value, or (where the adapter has
        a typed fast path) the page decoded once into its structs."""
        return orjson.loads(blob)

    def _request(self, start: datetime, end: datetime, page_no: int) -> tuple[str, dict]:
        raise NotImplementedError

    async def _page(self, payload: Any, page_no: int, known: Known | None = None) -> Page:
        raise NotImplementedError

    async def _call(self, path: str, options: dict[str, Any],
                    decode: Callable[[bytes], Any] = orjson.loads) -> Any:
        """POST, and the JSON answer; transport failures and 5xx become ``ServerError``."""
        self.stats["requests"] += 1
        began = time.perf_counter()
        content, headers = options.get("content"), options.get("headers")
        if (form := options.get("data")) is not None:  # its repeated fields quoted once
            content, headers = _form(form), {**FORM, **(headers or {})}
        try:
            response = await self.http.request("POST", self.base_url + path,
                                               params=options.get("params"), content=content,
                                               headers=headers, timeout=self.timeout_s)
        except HttpTimeout:
            raise ServerError(self.channel, f"timed out after {self.timeout_s}s") from None
        except HttpFailed as exc:
            raise ServerError(self.channel, f"unreachable: {exc.cause}") from None
        log.debug("%s %s -> %d in %.3fs", self.channel, path, response.status,
                  time.perf_counter() - began)
        status = response.status
        if status == 429:
            raise ThrottledError(self.channel, "HTTP 429",
                                 retry_after=_retry_after_header(response))
        if status >= 500:
            raise ServerError(self.channel, f"HTTP {status}", status=status)
        try:
            payload = decode(response.content)
        except orjson.JSONDecodeError:
            if status >= 400:
                raise RequestRejected(self.channel, f"HTTP {status}") from None
            raise ServerError(self.channel, f"HTTP {status} with a body that is not JSON",
                              status=status) from None
        return payload

    def _parsed(self, parse: Callable[[], Page]) -> Page:
        """Run the adapter's ``parse_page``; its errors become the typed ones."""
        try:
            return parse()
        except MarketplaceError as err:
            raise self._classify(err) from None
        except ParseError as err:
            raise ServerError(self.channel, f"unreadable page: {err}") from None

    def _classify(self, err: MarketplaceError) -> MarketplaceClientError:
        args = (self.channel, str(err), err.code, err.sub_code)
        if err.throttled or self._throttling(err):
            return ThrottledError(*args, retry_after=self._retry_after(err))
        if err.code in self.auth_codes or self._auth(err):
            return AuthError(*args)
        if err.retryable:
            return ServerError(*args)
        return RequestRejected(*args)

    def _throttling(self, err: MarketplaceError) -> bool:
        return False

    def _auth(self, err: MarketplaceError) -> bool:
        return False

    def _retry_after(self, err: MarketplaceError) -> float | None:
        return None

    def _now_text(self) -> str:
        return datetime.now(SHANGHAI).strftime(FMT)


FORM = {"content-type": "application/x-www-form-urlencoded"}
_FIELDS: dict[tuple[str, str], str] = {}  # (name, value) -> "name=value", quoted


def _form(fields: dict[str, str]) -> bytes:
    """``urlencode(fields)`` as httpx encodes ``data=``; a request's fields mostly repeat
    (app, token, field list, page size), so each pair is quoted once."""
    out = []
    for pair in fields.items():
        quoted = _FIELDS.get(pair)
        if quoted is None:
            if len(_FIELDS) >= 4096:
                _FIELDS.clear()
            quoted = _FIELDS[pair] = urlencode((pair,))
        out.append(quoted)
    return "&".join(out).encode()


def _retry_after_header(response: Answer) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None
