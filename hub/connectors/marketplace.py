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

import re
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

import httpx
import orjson

from hub.connectors._window import FMT, MarketplaceClient
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
from hub.domain.adapters.common import MarketplaceError, Page
from hub.domain.adapters.fast_path import Known, Typed
from hub.domain.order import OrderStatus


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
