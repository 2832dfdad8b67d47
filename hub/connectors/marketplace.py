"""Marketplace HTTP clients: one modified-time window in, every page out as ``Page``.

``fetch_window(start, end)`` splits the window at the marketplace's maximum span,
follows every page, signs every request, and retries throttling, 5xx, timeouts
and refused connections with exponential backoff and jitter (a throttling hint
from the marketplace is obeyed). Failures that a retry cannot fix raise at once:
``AuthError`` (bad app key, signature, token) and ``RequestRejected``. Secrets and
tokens never reach a log or a repr.

>>> import asyncio, httpx
>>> def answer(request):
...     return httpx.Response(200, json={"trades_sold_increment_get_response": {
...         "total_results": 0, "has_next": False, "trades": {"trade": []}}})
>>> client = TmallClient("http://tmall.test", "key", "secret", "token",
...                      transport=httpx.MockTransport(answer))
>>> from datetime import datetime
>>> from hub.domain.order import SHANGHAI, OrderStatus
>>> async def pages():
...     t = datetime(2026, 11, 11, tzinfo=SHANGHAI)
...     return [p async for p in client.fetch_window(t, t.replace(hour=1))]
>>> [len(p.orders) for p in asyncio.run(pages())]
[0]
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import orjson
from pydantic import SecretStr

from hub.connectors.coalesced import transport as held_writes
from hub.connectors.retry import (
    AuthError,
    MarketplaceClientError,
    RequestRejected,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from hub.connectors.signing import douyin_param_json, douyin_sign, jd_sign, top_sign
from hub.domain.adapters import douyin, jd, tmall
from hub.domain.adapters.common import MarketplaceError, Page, ParseError
from hub.domain.adapters.fast_path import Known, Typed
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


class MarketplaceClient:
    """The common half; subclasses build the signed request and read the answer."""

    channel: ClassVar[str] = ""
    first_page: ClassVar[int] = 1
    max_span: ClassVar[timedelta] = timedelta(days=1)
    auth_codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, base_url: str, app_key: str, app_secret: str | SecretStr,
                 access_token: str | SecretStr, *, shop: str = "", page_size: int = 100,
                 timeout_s: float = 10.0, retry: RetryPolicy | None = None,
                 http: httpx.AsyncClient | None = None,
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
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(transport=transport or held_writes(),
                                              timeout=timeout_s)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.stats: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(base_url={self.base_url!r}, app_key={self.app_key!r}, "
                f"shop={self.shop!r})")

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> MarketplaceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

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
        form = options.get("data")
        if form is not None and all(v.__class__ is str for v in form.values()):
            # encoded here, its repeated fields once (``_form``)
            options = {**options, "data": None, "content": _form(form),
                       "headers": {**FORM, **(options.get("headers") or {})}}
        try:
            response = await self.http.post(self.base_url + path, timeout=self.timeout_s,
                                            **options)
        except httpx.TimeoutException:
            raise ServerError(self.channel, f"timed out after {self.timeout_s}s") from None
        except httpx.TransportError as exc:
            raise ServerError(self.channel, f"unreachable: {type(exc).__name__}") from None
        log.debug("%s %s -> %d in %.3fs", self.channel, path, response.status_code,
                  time.perf_counter() - began)
        status = response.status_code
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


def _retry_after_header(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class TmallClient(MarketplaceClient):
    """Taobao TOP ``taobao.trades.sold.increment.get`` (``session`` = access token)."""

    channel = "tmall"
    method = "taobao.trades.sold.increment.get"
    auth_codes = frozenset({"24", "25", "26", "27", "28", "29"})
    fields = ("tid,status,seller_nick,created,modified,pay_time,buyer_open_uid,buyer_nick,"
              "receiver_name,receiver_mobile,receiver_state,receiver_city,receiver_district,"
              "receiver_town,receiver_address,total_fee,discount_fee,post_fee,payment,type,"
              "step_trade_status,step_paid_fee,shipping_type,trade_from,store_code,orders")
    _ban = re.compile(r"(\d+(?:\.\d+)?) more seconds")

    def __init__(self, *args: Any, sign_method: str = "md5", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sign_method = sign_method

    def _request(self, start: datetime, end: datetime, page_no: int) -> tuple[str, dict]:
        params = {"method": self.method, "app_key": self.app_key,
                  "session": self._access_token.get_secret_value(),
                  "timestamp": self._now_text(), "format": "json", "v": "2.0",
                  "sign_method": self.sign_method, "fields": self.fields,
                  "start_modified": start.strftime(FMT), "end_modified": end.strftime(FMT),
                  "page_no": str(page_no), "page_size": str(self.page_size),
                  "use_has_next": "true"}
        params["sign"] = top_sign(params, self._app_secret.get_secret_value(), self.sign_method)
        return "/router/rest", {"data": params}

    def _decode(self, blob: bytes) -> Any:
        return tmall.decode(blob)

    async def _page(self, payload: Any, page_no: int, known: Known | None = None) -> Page:
        return self._parsed(lambda: tmall.parse_page(payload, self.shop, page_no=page_no,
                                                     page_size=self.page_size, known=known))

    def _retry_after(self, err: MarketplaceError) -> float | None:
        found = self._ban.search(err.message)
        return float(found.group(1)) if found else None

    def _lookup_request(self, order_id: str) -> tuple[str, dict]:
        """TOP ``taobao.trade.fullinfo.get``, one ``tid``, its status only."""
        params = {"method": "taobao.trade.fullinfo.get", "app_key": self.app_key,
                  "session": self._access_token.get_secret_value(),
                  "timestamp": self._now_text(), "format": "json", "v": "2.0",
                  "sign_method": self.sign_method, "fields": "tid,status,modified",
                  "tid": order_id}
        params["sign"] = top_sign(params, self._app_secret.get_secret_value(), self.sign_method)
        return "/router/rest", {"data": params}

    def _lookup_status(self, payload: Any) -> OrderStatus | None:
        err = payload.get("error_response") if isinstance(payload, dict) else None
        if isinstance(err, dict) and str(err.get("sub_code", "")).startswith(
                "isv.trade-not-exist"):
            raise RequestRejected(self.channel, "no such trade", str(err.get("code")),
                                  str(err.get("sub_code")))
        body = self._raise(tmall.raise_for_error, payload).get(
            "trade_fullinfo_get_response") or {}
        trade = body.get("trade") if isinstance(body, dict) else None
        return tmall.STATUS.get(trade.get("status")) if isinstance(trade, dict) else None


class JdClient(MarketplaceClient):
    """JD ``jingdong.pop.order.search`` by modified time, every order state."""

    channel = "jd"
    method = "jingdong.pop.order.search"
    auth_codes = frozenset({"12", "15", "19"})

    def _request(self, start: datetime, end: datetime, page_no: int) -> tuple[str, dict]:
        business = {"start_date": start.strftime(FMT), "end_date": end.strftime(FMT),
                    "order_state": ",".join(jd.STATUS), "page": str(page_no),
                    "page_size": str(self.page_size), "dateType": "0", "sortType": "0"}
        params = {"method": self.method, "app_key": self.app_key,
                  "access_token": self._access_token.get_secret_value(),
                  "timestamp": self._now_text(), "v": "2.0",
                  "360buy_param_json": orjson.dumps(business).decode()}
        params["sign"] = jd_sign(params, self._app_secret.get_secret_value())
        return "/routerjson", {"data": params}

    def _decode(self, blob: bytes) -> Any:
        return jd.decode(blob)

    async def _page(self, payload: Any, page_no: int, known: Known | None = None) -> Page:
        return self._parsed(lambda: jd.parse_page(payload, self.shop, page_no=page_no,
                                                  page_size=self.page_size, known=known))

    def _lookup_request(self, order_id: str) -> tuple[str, dict]:
        """JD ``jingdong.pop.order.get``, one ``order_id``, its state only."""
        business = {"order_id": order_id, "optional_fields": "orderId,orderState"}
        params = {"method": "jingdong.pop.order.get", "app_key": self.app_key,
                  "access_token": self._access_token.get_secret_value(),
                  "timestamp": self._now_text(), "v": "2.0",
                  "360buy_param_json": orjson.dumps(business).decode()}
        params["sign"] = jd_sign(params, self._app_secret.get_secret_value())
        return "/routerjson", {"data": params}

    def _lookup_status(self, payload: Any) -> OrderStatus | None:
        body = self._raise(jd.raise_for_error, payload).get("jingdong_pop_order_get_responce")
        detail = body.get("orderDetailInfo") if isinstance(body, dict) else None
        info = detail.get("orderInfo") if isinstance(detail, dict) else None
        return jd.STATUS.get(info.get("orderState")) if isinstance(info, dict) else None


class DouyinClient(MarketplaceClient):
    """Douyin shop ``order.searchList`` by update time; receiver fields batch-decrypted."""

    channel = "douyin"
    first_page = 0
    decrypt_batch = 50
    decrypted_kept = 20_000  # ciphers whose plain text is kept, newest last
    _auth_subs = ("isv.signature-", "isv.access-token-", "isv.app-id-", "dop.authorization-",
                  "dop.no-permissions")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: OrderedDict[str, str] = OrderedDict()

    def _signed(self, method: str, body: dict) -> tuple[dict, str]:
        param_json = douyin_param_json(body)
        query = {"app_key": self.app_key, "method": method, "v": "2",
                 "timestamp": str(int(time.time())),
                 "access_token": self._access_token.get_secret_value(),
                 "sign_method": "hmac-sha256"}
        query["sign"] = douyin_sign(self.app_key, method, param_json, query["timestamp"], "2",
                                    self._app_secret.get_secret_value())
        return query, param_json

    def _request(self, start: datetime, end: datetime, page_no: int) -> tuple[str, dict]:
        query, param_json = self._signed("order.searchList", {
            "update_time_start": int(start.timestamp()), "update_time_end": int(end.timestamp()),
            "page": page_no, "size": self.page_size, "order_by": "update_time",
            "order_asc": True})
        return "/order/searchList", {"params": query, "content": param_json.encode(),
                                     "headers": {"content-type": "application/json"}}

    def _decode(self, blob: bytes) -> Any:
        return douyin.decode(blob)

    async def _page(self, payload: Any, page_no: int, known: Known | None = None) -> Page:
        decrypted: dict[str, str] = {}
        code = payload.body.code if payload.__class__ is Typed else (
            payload.get("code") if isinstance(payload, dict) else None)
        if code in (douyin.OK, str(douyin.OK)):
            decrypted = await self.decrypt(douyin.ciphers(payload))
        return self._parsed(lambda: douyin.parse_page(
            payload, self.shop, page_no=page_no, page_size=self.page_size, decrypted=decrypted,
            known=known))

    async def decrypt(self, pairs: list[tuple[str, str]]) -> dict[str, str]:
        """cipher -> plain text via ``order.batchDecrypt``, 50 at a time; a cipher the
        marketplace could not decrypt is left out (the adapter keeps the masked form).
        Answers are kept (``decrypted_kept``, oldest dropped first): a window's overlap
        and the first page read again bring the same ciphers back within seconds."""
        unique = list({cipher: order_id for order_id, cipher in pairs}.items())
        kept = self._plain
        plain = {cipher: kept[cipher] for cipher, _ in unique if cipher in kept}
        self.stats["decrypt_kept_hits"] += len(plain)
        unique = [pair for pair in unique if pair[0] not in plain]
        for i in range(0, len(unique), self.decrypt_batch):
            chunk = unique[i:i + self.decrypt_batch]
            query, param_json = self._signed("order.batchDecrypt", {"cipher_infos": [
                {"auth_id": order_id, "cipher_text": cipher} for cipher, order_id in chunk]})
            self.stats["decrypt_calls"] += 1
            answer = await self._call("/order/batchDecrypt", {
                "params": query, "content": param_json.encode(),
                "headers": {"content-type": "application/json"}})
            if not isinstance(answer, dict):
                raise ServerError(self.channel, "batchDecrypt answered without an object")
            try:
                douyin.raise_for_error(answer)
            except MarketplaceError as err:
                raise self._classify(err) from None
            for info in (answer.get("data") or {}).get("decrypt_infos") or []:
                if isinstance(info, dict) and not info.get("err_no") and "cipher_text" in info:
                    cipher = str(info["cipher_text"])
                    plain[cipher] = kept[cipher] = str(info.get("decrypt_text") or "")
        while len(kept) > self.decrypted_kept:
            kept.popitem(last=False)
        return plain

    def _throttling(self, err: MarketplaceError) -> bool:
        return err.code == "60000" or err.sub_code == "isv.traffic-limited"

    def _lookup_request(self, order_id: str) -> tuple[str, dict]:
        """Douyin ``order.orderDetail``, one ``shop_order_id``."""
        query, param_json = self._signed("order.orderDetail", {"shop_order_id": order_id})
        return "/order/orderDetail", {"params": query, "content": param_json.encode(),
                                      "headers": {"content-type": "application/json"}}

    def _lookup_status(self, payload: Any) -> OrderStatus | None:
        data = self._raise(douyin.raise_for_error, payload).get("data")
        detail = data.get("shop_order_detail") if isinstance(data, dict) else None
        status = detail.get("order_status") if isinstance(detail, dict) else None
        return douyin.STATUS.get(status) if isinstance(status, int) else None

    def _auth(self, err: MarketplaceError) -> bool:
        return err.code == "30001" or err.sub_code.startswith(self._auth_subs)


CLIENTS: dict[str, type[MarketplaceClient]] = {
    "tmall": TmallClient, "jd": JdClient, "douyin": DouyinClient}


def client_for(config: Any, *, http: httpx.AsyncClient | None = None,
               **kwargs: Any) -> MarketplaceClient:
    """The client for a ``hub.config.ChannelConfig``."""
    channel = getattr(config.channel, "value", config.channel)
    try:
        cls = CLIENTS[channel]
    except KeyError:
        raise ValueError(f"no marketplace client for channel {channel!r}") from None
    kwargs.setdefault("retry", RetryPolicy(max_retries=config.max_retries))
    return cls(config.base_url, config.app_key, config.app_secret, config.access_token,
               shop=config.shop, page_size=config.page_size, timeout_s=config.timeout_s,
               http=http, **kwargs)


__all__ = ["CLIENTS", "AuthError", "DouyinClient", "JdClient", "MarketplaceClient",
           "MarketplaceClientError", "RequestRejected", "RetryPolicy", "ServerError",
           "ThrottledError", "TmallClient", "client_for"]
