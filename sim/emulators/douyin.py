"""Emulated Douyin shop open platform (抖店): ``POST /order/searchList`` and
``POST /order/batchDecrypt``, and ``POST /order/orderDetail`` (one ``shop_order_id``:
``{"data": {"shop_order_detail": {...}}}``, or 50002 ``isv.business-failed:order-not-exist``)
for the reconciler's by-id status.

System parameters in the query string: ``app_key``, ``method`` (order.searchList /
order.batchDecrypt), ``v`` (2), ``timestamp``, ``access_token``, ``sign_method``
(hmac-sha256, or md5 when absent), ``sign`` over app_key, method, param_json,
timestamp and v; the JSON body is ``param_json``. searchList takes
``update_time_start`` / ``update_time_end`` (unix seconds, at most ``max_span``
apart, half-open), ``page`` (from 0) and ``size`` (1..100). Receiver name, phone and
street detail are served encrypted; batchDecrypt takes up to 50 ``cipher_infos``
[{auth_id, cipher_text}] and answers ``decrypt_infos`` [{auth_id, cipher_text,
decrypt_text, err_no, err_msg}]. Errors: code 40001 (missing app key / token),
40003 with sub_code isv.signature-invalid, isv.access-token-no-existed,
isv.app-id-invalid or isv.parameter-invalid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from hub.domain import SHANGHAI, Order
from hub.domain.adapters import remember
from sim.emulators.market_http import by_id, gate, json_response, mount_common
from sim.emulators.marketplace import Credential, MarketplaceState
from sim.emulators.signatures import douyin, douyin_body, matches
from sim.shapes import douyin as shape

SEARCH, DECRYPT = "order.searchList", "order.batchDecrypt"
DETAIL = "order.orderDetail"  # one shop_order_id: the reconciler's by-id status
MAX_PAGE_SIZE, MAX_DECRYPT = 100, 50


class Sealer:
    """Deterministic, keyed, reversible encryption of receiver fields: ``#<base64>#``.

    >>> sealer = Sealer("k")
    >>> sealer.open(sealer.seal("13812345678"))
    '13812345678'
    """

    def __init__(self, key: str) -> None:
        self._key = key.encode()
        self._sealed: dict[str, str] = {}  # deterministic: a text seals the same each time
        self._opened: dict[str, str] = {}

    def _stream(self, tag: bytes, size: int) -> bytes:
        out = b""
        for block in range(size // 32 + 1):
            out += hashlib.sha256(self._key + tag + block.to_bytes(4, "big")).digest()
        return out[:size]

    @staticmethod
    def _xor(data: bytes, stream: bytes) -> bytes:
        size = len(data)
        return (int.from_bytes(data) ^ int.from_bytes(stream)).to_bytes(size)

    def seal(self, plain: str) -> str:
        if (cipher := self._sealed.get(plain)) is not None:
            return cipher
        data = plain.encode()
        tag = hmac.new(self._key, data, hashlib.sha256).digest()[:8]
        body = self._xor(data, self._stream(tag, len(data)))
        return remember(self._sealed, plain,
                          "#" + base64.urlsafe_b64encode(tag + body).decode() + "#")

    def open(self, cipher: str) -> str:
        if (plain := self._opened.get(cipher)) is not None:
            return plain
        if len(cipher) < 3 or cipher[0] != "#" or cipher[-1] != "#":
            raise ValueError("not a cipher text")
        raw = base64.urlsafe_b64decode(cipher[1:-1])
        tag, body = raw[:8], raw[8:]
        data = self._xor(body, self._stream(tag, len(body)))
        if not hmac.compare_digest(tag, hmac.new(self._key, data, hashlib.sha256).digest()[:8]):
            raise ValueError("cipher text does not verify")
        return remember(self._opened, cipher, data.decode())


class DouyinError(Exception):
    def __init__(self, code: int, message: str, sub_code: str, kind: str = "auth") -> None:
        super().__init__(message)
        self.body, self.kind = shape.error(code, message, sub_code), kind


def _bad(message: str) -> DouyinError:
    return DouyinError(40003, message, "isv.parameter-invalid", "bad_request")


def authenticate(state: MarketplaceState, params: dict[str, str], method: str,
                 param_json: str) -> Credential:
    if not params.get("app_key"):
        raise DouyinError(40001, "认证失败，app_key不存在", "isv.app-id-missing")
    secret = state.secret_of(params["app_key"])
    if secret is None:
        raise DouyinError(40003, "认证失败，app_key不正确", "isv.app-id-invalid")
    if params.get("method") != method:
        raise _bad(f"method must be {method} on this path")
    if not params.get("sign"):
        raise DouyinError(40001, "获取签名失败，请根据文档确保参数拼装正确",
                          "isv.signature-missing")
    sign_method = params.get("sign_method") or "md5"
    if sign_method not in ("md5", "hmac-sha256") or not matches(douyin(
            secret, params["app_key"], method, param_json, params.get("timestamp", ""),
            params.get("v", ""), sign_method), params["sign"]):
        raise DouyinError(40003, "签名校验失败", "isv.signature-invalid")
    if not params.get("access_token"):
        raise DouyinError(40001, "认证失败，access_token不能为空", "isv.access-token-missing")
    cred = state.authorise(params["app_key"], params["access_token"])
    if cred is None:
        raise DouyinError(40003, "access_token不存在，请使用最新的access_token访问",
                          "isv.access-token-no-existed")
    return cred


def _unix(body: dict[str, Any], key: str) -> datetime:
    value = body.get(key)
    if isinstance(value, bool) or not str(value).isdigit():
        raise _bad(f"{key} must be unix seconds, got {value!r:.40}")
    return datetime.fromtimestamp(int(value), SHANGHAI)


def _int(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
        raise _bad(f"{key} must be an integer in {low}..{high}, got {value!r:.20}")
    return int(value)


def break_record(raw: dict, suffix: str) -> dict:
    """A shop order with an unreadable paid amount (the malformed-record fault)."""
    raw["order_id"] = f"{raw['order_id']}{suffix}"
    raw["pay_amount"] = "abc"
    return raw


def ok(data: dict) -> dict:
    return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "emu",
            "data": data}


def create_app(state: MarketplaceState, *, max_span: timedelta = timedelta(days=1),
               cipher_key: str = "douyin-emulator") -> FastAPI:
    """The Douyin emulator over ``state`` (its channel must be ``douyin``); it sets the
    state's encoder to one that encrypts the receiver fields."""
    if state.channel != "douyin":
        raise ValueError(f"the Douyin emulator needs a douyin state, got {state.channel!r}")
    sealer = Sealer(cipher_key)

    def encode(order: Order) -> dict:
        return shape.to_raw(order, encrypt=sealer.seal)

    state.encode = encode
    app = FastAPI(title="Douyin shop emulator")
    app.state.sealer = sealer
    mount_common(app, state)

    async def checked(request: Request, method: str) -> tuple[Credential, dict[str, Any]]:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            raise _bad("param_json (the body) is not JSON") from None
        if not isinstance(body, dict):
            raise _bad("param_json (the body) must be a JSON object")
        cred = authenticate(state, dict(request.query_params), method,
                            douyin_body(body))
        return cred, body

    def unavailable(status: int) -> dict:
        return shape.error(20000, "服务不可用", "dop.service-error")

    @app.post("/order/searchList")
    async def search(request: Request) -> Response:
        blocked = await gate(state, "order/searchList", throttled=shape.throttled,
                             unavailable=unavailable)
        if blocked is not None:
            return blocked
        try:
            cred, body = await checked(request, SEARCH)
            start, end = _unix(body, "update_time_start"), _unix(body, "update_time_end")
            if end < start or end - start > max_span:
                raise _bad(f"update_time_end must be after update_time_start and at most "
                           f"{int(max_span.total_seconds())} s later")
            page_no = _int(body, "page", 0, 0, 1_000_000)
            size = _int(body, "size", 10, 1, MAX_PAGE_SIZE)
        except DouyinError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        served = state.serve(start, end, offset=page_no * size, limit=size, shop=cred.shop,
                             breaker=break_record, api=SEARCH, page=page_no)
        return json_response(shape.page(served.records, page_no=page_no, page_size=size,
                                        total=served.total, has_next=served.has_next))

    @app.post("/order/orderDetail")
    async def detail(request: Request) -> Response:
        blocked = await gate(state, "order/orderDetail", throttled=shape.throttled,
                             unavailable=unavailable)
        if blocked is not None:
            return blocked
        try:
            cred, body = await checked(request, DETAIL)
            order_id = str(body.get("shop_order_id") or "")
            if not order_id:
                raise _bad("shop_order_id is required")
        except DouyinError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        raw = by_id(state, cred.shop, order_id)
        if raw is None:
            return json_response(shape.error(50002, "业务处理失败",
                                             "isv.business-failed:order-not-exist"))
        return json_response(ok({"shop_order_detail": raw}))

    @app.post("/order/batchDecrypt")
    async def decrypt(request: Request) -> Response:
        blocked = await gate(state, "order/batchDecrypt", throttled=shape.throttled,
                             unavailable=unavailable)
        if blocked is not None:
            return blocked
        try:
            _, body = await checked(request, DECRYPT)
            infos = body.get("cipher_infos")
            if not isinstance(infos, list) or not 1 <= len(infos) <= MAX_DECRYPT:
                raise _bad(f"cipher_infos must be a list of 1..{MAX_DECRYPT} items")
        except DouyinError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        out = []
        for info in infos:
            item = info if isinstance(info, dict) else {}
            cipher = str(item.get("cipher_text") or "")
            entry = {"auth_id": str(item.get("auth_id") or ""), "cipher_text": cipher,
                     "decrypt_text": "", "err_no": 0, "err_msg": ""}
            try:
                entry["decrypt_text"] = sealer.open(cipher)
            except (ValueError, UnicodeDecodeError):
                entry.update(err_no=300008, err_msg="cipher_text invalid")
            out.append(entry)
        state.count("decrypted", n=sum(1 for e in out if not e["err_no"]))
        return json_response(ok({"decrypt_infos": out,
                                 "custom_err": {"err_code": 0, "err_msg": ""}}))

    return app
