"""How the emulated marketplaces wrap and sign their message pushes, written here on their
own (never imported from the hub), so a bug in the hub's check cannot hide in both.
docs/push.md gives the recipes' sources and what was assumed.

Douyin shop (抖店): a JSON list of ``{tag, msg_id, data}``, data a JSON string; headers
``app-id``, ``event-sign`` = md5 hex of app_key + body + app_secret (or, with
``sign-method: hmac-sha256``, HMAC-SHA256 keyed with app_secret over the same text).
Checked against OpenSSL: ``printf 'k{}s' | openssl dgst -md5`` and
``printf 'k{}s' | openssl dgst -sha256 -hmac s``:

>>> douyin_event_sign("k", "s", b"{}")
'4fdef62adf72fa00910b42a56a88cec4'
>>> douyin_event_sign("k", "s", b"{}", "hmac-sha256")
'812fbce375089643b744a68f9dcdcda8ff7d65dd197750ffbdb6ebce01f79c12'

Tmall (TMC topics): a JSON list of ``{id, topic, pub_time, content}``; query parameters
``app_key``, ``timestamp``, ``sign_method``, ``sign``; sign = upper-case md5 hex of
secret + name1value1name2value2... (sorted, ``sign`` left out) + body + secret.
With ``sign_method=hmac-sha256``: upper-case HMAC-SHA256 hex, keyed with the secret, of
the pairs then the body. ``printf 'sapp_keyktimestamp2026-11-11 00:00:00[]s' | openssl
dgst -md5`` and ``printf 'app_keyktimestamp2026-11-11 00:00:00[]' | openssl dgst -sha256
-hmac s``:

>>> params = {"app_key": "k", "timestamp": "2026-11-11 00:00:00"}
>>> tmall_sign(params, b"[]", "s")
'FEB0EBB5EDEBBA6D7CC8C62723FC9F10'
>>> tmall_sign(params, b"[]", "s", "hmac-sha256")
'96555E8466B804A0033C86E6D1310788B013EA2C7DCA897D38662469CE7321ED'

JD (JOS message push): a JSON list of ``{msgId, topic, businessId, msgPayload}``; query
``app_key``, ``timestamp``, ``v``, ``sign``; the body is signed as the parameter
``360buy_param_json``, JOS's request recipe: upper-case md5 hex of secret + the sorted
name/value pairs + secret.
``printf 's360buy_param_json[]app_keyktimestamp2026-11-11 00:00:00v2.0s' | openssl dgst -md5``:

>>> jd_sign({"app_key": "k", "timestamp": "2026-11-11 00:00:00", "v": "2.0"}, b"[]", "s")
'AEF963F144BCF2650686EB2F890806CE'
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from hub.domain import Order, OrderStatus

BEIJING = timezone(timedelta(hours=8))

DOUYIN_TAGS = {OrderStatus.UNPAID: "100", OrderStatus.PAID: "101",
               OrderStatus.PARTIALLY_SHIPPED: "102", OrderStatus.SHIPPED: "102",
               OrderStatus.FINISHED: "103", OrderStatus.CANCELLED: "106"}
TMALL_TOPICS = {OrderStatus.UNPAID: "taobao_trade_TradeCreate",
                OrderStatus.PAID: "taobao_trade_TradeBuyerPay",
                OrderStatus.PARTIALLY_SHIPPED: "taobao_trade_TradePartlySellerShip",
                OrderStatus.SHIPPED: "taobao_trade_TradeSellerShip",
                OrderStatus.FINISHED: "taobao_trade_TradeSuccess",
                OrderStatus.CANCELLED: "taobao_trade_TradeClose"}
JD_TOPICS = {OrderStatus.UNPAID: "jos_order_create", OrderStatus.PAID: "jos_order_pay",
             OrderStatus.PARTIALLY_SHIPPED: "jos_order_ship", OrderStatus.SHIPPED: "jos_order_ship",
             OrderStatus.FINISHED: "jos_order_finish", OrderStatus.CANCELLED: "jos_order_cancel"}


# -- the signatures ------------------------------------------------------------------------
def douyin_event_sign(app_key: str, app_secret: str, body: bytes, method: str = "md5") -> str:
    message = b"%s%s%s" % (app_key.encode("utf-8"), body, app_secret.encode("utf-8"))
    if method == "hmac-sha256":
        return hmac.new(app_secret.encode("utf-8"), message, "sha256").hexdigest()
    return hashlib.md5(message).hexdigest()


def tmall_sign(params: dict[str, str], body: bytes, app_secret: str, method: str = "md5") -> str:
    pairs = b"".join(b"%s%s" % (name.encode("utf-8"), params[name].encode("utf-8"))
                     for name in sorted(params) if name != "sign")
    if method == "hmac-sha256":
        return hmac.new(app_secret.encode("utf-8"), pairs + body, "sha256").hexdigest().upper()
    secret = app_secret.encode("utf-8")
    return hashlib.md5(secret + pairs + body + secret).hexdigest().upper()


def jd_sign(params: dict[str, str], body: bytes, app_secret: str) -> str:
    signed = {name.encode("utf-8"): value.encode("utf-8") for name, value in params.items()
              if name != "sign"}
    signed[b"360buy_param_json"] = body
    secret = app_secret.encode("utf-8")
    text = secret + b"".join(name + signed[name] for name in sorted(signed)) + secret
    return hashlib.md5(text).hexdigest().upper()


def beijing(epoch_s: float) -> str:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS' in Beijing time, as TOP and JOS stamp."""
    return datetime.fromtimestamp(int(epoch_s), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# -- the envelopes --------------------------------------------------------------------------
def message_id(channel: str, order: Order) -> str | int:
    """One id per order version: the same when the same version is pushed again."""
    version = int(order.modified_at.timestamp() * 1000)
    if channel == "tmall":  # TMC ids are numbers
        digest = hashlib.sha1(f"{order.order_id}@{version}".encode()).hexdigest()
        return int(digest[:15], 16)
    if channel == "douyin":
        return f"{order.order_id}:{DOUYIN_TAGS.get(order.status, '101')}:{version}"
    return f"jd-{order.order_id}-{version}"


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _douyin(order: Order, raw: dict, now_s: float) -> dict:
    data = {"p_id": order.order_id, "shop_id": order.shop, "order_status": order.status.value,
            "msg_time": int(now_s), "order": raw}
    return {"tag": DOUYIN_TAGS.get(order.status, "101"), "msg_id": message_id("douyin", order),
            "data": _text(data)}


def _tmall(order: Order, raw: dict, now_s: float, app_key: str) -> dict:
    content = {"tid": order.order_id, "seller_nick": order.shop, "status": order.status.value,
               "trade": raw}
    return {"id": message_id("tmall", order), "topic": TMALL_TOPICS.get(order.status, ""),
            "pub_time": beijing(now_s), "pub_app_key": app_key, "user_nick": order.shop,
            "content": _text(content)}


def _jd(order: Order, raw: dict) -> dict:
    return {"msgId": message_id("jd", order), "topic": JD_TOPICS.get(order.status, ""),
            "businessId": order.order_id, "msgPayload": _text(raw)}


def envelope(channel: str, items: Sequence[tuple[Order, dict]], *, now_s: float,
             app_key: str) -> bytes:
    """The body a marketplace pushes for ``items`` ((order, its raw record)): one message
    per order version."""
    if channel == "douyin":
        messages = [_douyin(order, raw, now_s) for order, raw in items]
    elif channel == "tmall":
        messages = [_tmall(order, raw, now_s, app_key) for order, raw in items]
    elif channel == "jd":
        messages = [_jd(order, raw) for order, raw in items]
    else:
        raise ValueError(f"no push envelope for channel {channel!r}")
    return orjson.dumps(messages)


def signed(channel: str, body: bytes, *, app_key: str, app_secret: str, now_s: float,
           query: dict[str, str] | None = None, sign_method: str = "md5",
           ) -> tuple[dict[str, str], dict[str, str]]:
    """(query parameters, headers) that sign ``body`` as ``channel`` signs a push;
    ``query``: parameters of the receiver's URL (e.g. ``shop``), signed with the rest."""
    params = dict(query or {})
    if channel == "douyin":
        return params, {"app-id": app_key, "sign-method": sign_method,
                        "event-sign": douyin_event_sign(app_key, app_secret, body, sign_method)}
    params |= {"app_key": app_key, "timestamp": beijing(now_s)}
    if channel == "tmall":
        params["sign_method"] = sign_method
        params["sign"] = tmall_sign(params, body, app_secret, sign_method)
    elif channel == "jd":
        params["v"] = "2.0"
        params["sign"] = jd_sign(params, body, app_secret)
    else:
        raise ValueError(f"no push signature for channel {channel!r}")
    return params, {}
