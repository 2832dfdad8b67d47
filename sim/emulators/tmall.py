"""Emulated Taobao/Tmall open platform (TOP): ``POST /router/rest`` with
``method=taobao.trades.sold.increment.get``, and ``taobao.trade.fullinfo.get`` (one
``tid``: ``{"trade_fullinfo_get_response": {"trade": {...}}}``, or error 15
``isv.trade-not-exist``) for the reconciler's by-id status.

Parameters come as a form body or query string: system ``app_key``, ``session``,
``timestamp`` ('YYYY-MM-DD HH:MM:SS'), ``sign_method`` (md5 default, hmac,
hmac-sha256), ``sign``, ``v``, ``format``; business ``start_modified`` and
``end_modified`` (Shanghai time, at most one day apart), ``page_no`` (from 1),
``page_size`` (1..100, default 40), optional ``status`` (a TOP trade status),
``use_has_next``. The window is half-open, ``[start_modified, end_modified)``, so
adjacent windows never share an order. Errors use TOP's ``error_response``: 25
Invalid Signature, 27 Invalid Session, 29 Invalid App Key, 22 Invalid Method,
40 Missing Required Arguments, 41 Invalid Arguments, 7 App Call Limited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import FastAPI, Request, Response

from hub.domain import SHANGHAI
from sim.emulators.market_http import by_id, gate, json_response, mount_common, request_params
from sim.emulators.marketplace import Credential, MarketplaceState
from sim.emulators.signatures import TOP_METHODS, matches, top
from sim.shapes import tmall as shape

METHOD = "taobao.trades.sold.increment.get"
LOOKUP = "taobao.trade.fullinfo.get"
FMT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100


class TopError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "",
                 kind: str = "bad_request") -> None:
        super().__init__(msg)
        self.body = shape.error(code, msg, sub_code, sub_msg)
        self.kind = kind


def _time(params: dict[str, str], key: str) -> datetime:
    value = params.get(key, "")
    if not value:
        raise TopError(40, "Missing Required Arguments", f"isv.missing-parameter:{key}",
                       f"{key} is required")
    try:
        return datetime.strptime(value, FMT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise TopError(41, "Invalid Arguments", f"isv.invalid-parameter:{key}",
                       f"{key} must be 'YYYY-MM-DD HH:MM:SS', got {value[:40]!r}") from None


def _int(params: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key) or str(default)
    if not value.isdigit() or not low <= int(value) <= high:
        raise TopError(41, "Invalid Arguments", f"isv.invalid-parameter:{key}",
                       f"{key} must be an integer in {low}..{high}, got {value[:20]!r}")
    return int(value)


def authenticate(state: MarketplaceState, params: dict[str, str]) -> Credential:
    """TOP's checks, in its order: app key, method, signature, session."""
    app_key = params.get("app_key", "")
    if not app_key:
        raise TopError(28, "Missing App Key", kind="auth")
    secret = state.secret_of(app_key)
    if secret is None:
        raise TopError(29, "Invalid App Key", kind="auth")
    if not params.get("method"):
        raise TopError(21, "Missing Method")
    if params["method"] not in (METHOD, LOOKUP):
        raise TopError(22, "Invalid Method",
                       sub_msg=f"this emulator serves {METHOD} and {LOOKUP} only")
    if not params.get("timestamp"):
        raise TopError(30, "Missing Timestamp")
    sign_method = params.get("sign_method") or "md5"
    if not params.get("sign"):
        raise TopError(24, "Missing Signature", kind="auth")
    if sign_method not in TOP_METHODS or not matches(
            top(secret, params, sign_method), params["sign"]):
        raise TopError(25, "Invalid Signature", kind="auth")
    session = params.get("session", "")
    if not session:
        raise TopError(26, "Missing Session", kind="auth")
    cred = state.authorise(app_key, session)
    if cred is None:
        raise TopError(27, "Invalid Session", "invalid-sessionkey", kind="auth")
    return cred


def break_record(raw: dict, suffix: str) -> dict:
    """A trade with an unreadable amount (the malformed-record fault)."""
    raw["tid"] = raw["tid_str"] = f"{raw.get('tid_str') or raw['tid']}{suffix}"
    raw["payment"] = "12.3.4"
    return raw


def create_app(state: MarketplaceState, *, max_span: timedelta = timedelta(days=1)) -> FastAPI:
    """The Tmall emulator over ``state`` (its channel must be ``tmall``)."""
    if state.channel != "tmall":
        raise ValueError(f"the Tmall emulator needs a tmall state, got {state.channel!r}")
    app = FastAPI(title="Tmall (TOP) emulator")
    mount_common(app, state)

    @app.post("/router/rest")
    async def router(request: Request) -> Response:
        blocked = await gate(state, "router/rest", throttled=shape.throttled,
                             unavailable=lambda status: shape.error(
                                 10, "Service Currently Unavailable", "isp.service-unavailable"))
        if blocked is not None:
            return blocked
        params = await request_params(request)
        if params.get("method") == LOOKUP:
            return lookup(params)
        try:
            cred = authenticate(state, params)
            start, end = _time(params, "start_modified"), _time(params, "end_modified")
            if end < start or end - start > max_span:
                raise TopError(41, "Invalid Arguments",
                               "isv.invalid-parameter:start_modified-end_modified",
                               f"end_modified must be after start_modified and at most "
                               f"{max_span} later")
            page_no = _int(params, "page_no", 1, 1, 1_000_000)
            size = _int(params, "page_size", 40, 1, MAX_PAGE_SIZE)
        except TopError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        status = params.get("status") or None
        where = (lambda o: shape.STATUS[o.status] == status) if status else None
        served = state.serve(start, end, offset=(page_no - 1) * size, limit=size,
                             shop=cred.shop, where=where, where_key=status,
                             breaker=break_record, api=METHOD, page=page_no)
        return json_response(shape.page(served.records, page_no=page_no, page_size=size,
                                        total=served.total, has_next=served.has_next))

    def lookup(params: dict[str, str]) -> Response:
        try:
            cred = authenticate(state, params)
            tid = params.get("tid", "")
            if not tid:
                raise TopError(40, "Missing Required Arguments", "isv.missing-parameter:tid",
                               "tid is required")
        except TopError as exc:
            state.count("rejected", error=exc.kind)
            return json_response(exc.body)
        raw = by_id(state, cred.shop, tid)
        if raw is None:
            return json_response(shape.error(15, "Remote service error", "isv.trade-not-exist",
                                             f"no trade {tid[:40]}"))
        return json_response({"trade_fullinfo_get_response": {"trade": raw}})

    return app

