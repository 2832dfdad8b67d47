"""Emulated JD open platform: ``POST /routerjson`` with ``method=jingdong.pop.order.search``
(and ``jingdong.pop.order.get``, one ``order_id``, for the reconciler's by-id status).

System parameters (form body or query string): ``app_key``, ``access_token``,
``timestamp`` ('YYYY-MM-DD HH:MM:SS'), ``v`` (2.0), ``sign`` = MD5(secret + sorted
k+v + secret) upper hex, and ``360buy_param_json``: a JSON object with
``start_date`` / ``end_date`` (Shanghai, at most ``max_span`` apart; the window is
half-open), ``page`` (from 1), ``page_size`` (1..100), optional ``order_state``
(comma-separated JD states) and ``dateType`` (only modified time is emulated).

Gateway errors use JD's ``error_response`` {code, zh_desc, en_desc}: 19 invalid
access_token, 12 invalid signature (codes seen in the wild); 15 invalid app_key,
22 invalid method and 40 missing parameter are this emulator's assumptions.
Business errors (bad window, page size) come inside the normal envelope as
``apiResult.success = false``, as the order APIs do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

from hub.domain import SHANGHAI
from sim.emulators.market_http import by_id, gate, json_response, mount_common, request_params
from sim.emulators.marketplace import Credential, MarketplaceState
from sim.emulators.signatures import jd, matches
from sim.shapes import jd as shape

METHOD = "jingdong.pop.order.search"
LOOKUP = "jingdong.pop.order.get"
FMT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
RESPONSE = "jingdong_pop_order_search_responce"


class JdError(Exception):
    def __init__(self, body: dict, kind: str = "bad_request") -> None:
        super().__init__(str(body))
        self.body, self.kind = body, kind


def gateway_error(code: str, zh: str, en: str, kind: str = "auth") -> JdError:
    return JdError({"error_response": {"code": code, "zh_desc": zh, "en_desc": en}}, kind)


def business_error(code: str, zh: str, en: str) -> JdError:
    return JdError({RESPONSE: {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": False, "code": code, "chineseErr": zh, "englishErr": en},
        "orderTotal": 0, "orderInfoList": []}}})


def authenticate(state: MarketplaceState, params: dict[str, str]) -> Credential:
    for key in ("app_key", "method", "timestamp", "sign", "access_token"):
        if not params.get(key):
            raise gateway_error("40", f"缺少参数 {key}", f"Missing parameter {key}",
                                "auth" if key in ("app_key", "sign", "access_token")
                                else "bad_request")
    secret = state.secret_of(params["app_key"])
    if secret is None:
        raise gateway_error("15", "无效app_key", "Invalid app_key")
    if params["method"] not in (METHOD, LOOKUP):
        raise gateway_error("22", "无效方法", f"Invalid method; this emulator serves {METHOD}",
                            "bad_request")
    if not matches(jd(secret, params), params["sign"]):
        raise gateway_error("12", "无效签名", "Invalid signature")
    cred = state.authorise(params["app_key"], params["access_token"])
    if cred is None:
        raise gateway_error("19", "无效access_token", "Invalid access_token")
    return cred


def _business(params: dict[str, str]) -> dict[str, Any]:
    try:
        body = orjson.loads(params.get("360buy_param_json") or "{}")
    except orjson.JSONDecodeError:
        raise business_error("100", "360buy_param_json 不是 JSON",
                             "360buy_param_json is not JSON") from None
    if not isinstance(body, dict):
        raise business_error("100", "360buy_param_json 须为对象",
                             "360buy_param_json must be an object")
    return body


def _time(body: dict[str, Any], key: str) -> datetime:
    value = body.get(key)
    try:
        return datetime.strptime(str(value), FMT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise business_error("100", f"{key} 格式错误",
                             f"{key} must be 'YYYY-MM-DD HH:MM:SS', got {value!r:.40}") from None


def _int(body: dict[str, Any], key: str, default: int, high: int) -> int:
    value = str(body.get(key) or default)
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise business_error("100", f"{key} 取值错误",
                             f"{key} must be an integer in 1..{high}, got {value[:20]!r}")
    return int(value)


def break_record(raw: dict, suffix: str) -> dict:
    """An order with an unreadable total (the malformed-record fault)."""
    raw["orderId"] = f"{raw['orderId']}{suffix}"
    raw["orderTotalPrice"] = "abc"
    return raw


def create_app(state: MarketplaceState, *, max_span: timedelta = timedelta(days=1)) -> FastAPI:
    """The JD emulator over ``state`` (its channel must be ``jd``)."""
    if state.channel != "jd":
        raise ValueError(f"the JD emulator needs a jd state, got {state.channel!r}")
    app = FastAPI(title="JD open platform emulator")
    mount_common(app, state)

    @app.post("/routerjson")
    async def routerjson(request: Request) -> Response:
        blocked = await gate(state, "routerjson", throttled=shape.throttled,
                             unavailable=lambda status: shape.error(1, "服务不可用"))
        if blocked is not None:
            return blocked
        params = await request_params(request)
        if params.get("method") == LOOKUP:
            return lookup(params)
        try:
            cred = authenticate(state, params)
            body = _business(params)
            start, end = _time(body, "start_date"), _time(body, "end_date")
            if end < start or end - start > max_span:
                raise business_error("100", "查询时间跨度超出范围",
                                     f"end_date must be after start_date and at most "
                                     f"{max_span} later")
            page_no = _int(body, "page", 1, 1_000_000)
            size = _int(body, "page_size", 20, MAX_PAGE_SIZE)
        except JdError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        states = {s for s in str(body.get("order_state") or "").split(",") if s}
        where = (lambda o: shape.STATUS[o.status] in states) if states else None
        served = state.serve(start, end, offset=(page_no - 1) * size, limit=size,
                             shop=cred.shop, where=where, where_key=frozenset(states),
                             breaker=break_record, api=METHOD, page=page_no)
        return json_response(shape.page(served.records, page_no=page_no, page_size=size,
                                        total=served.total, has_next=served.has_next))

    def lookup(params: dict[str, str]) -> Response:
        try:
            cred = authenticate(state, params)
            order_id = str(_business(params).get("order_id") or "")
            if not order_id:
                raise business_error("40", "缺少参数order_id", "order_id is required")
        except JdError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        raw = by_id(state, cred.shop, order_id)
        return json_response({"jingdong_pop_order_get_responce": {
            "code": "0", "orderDetailInfo": {"orderInfo": raw}}})

    return app
