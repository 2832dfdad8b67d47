"""The marketplaces' message envelopes: a pushed body -> its messages, each with its id,
topic, (Douyin) the time it was sent, and the order records it carries, in the shape the
pull API serves them (so the channel adapters parse them). docs/push.md has the fields.

douyin  ``[{"tag": "101", "msg_id": "...", "data": "<JSON>"}]``; data holds ``msg_time``
        (epoch seconds) and the shop order under ``order`` (none: a notice, e.g. tag 0)
tmall   ``[{"id": 1, "topic": "taobao_trade_TradeBuyerPay", "pub_time": "...",
        "content": "<JSON>"}]``; content holds the trade under ``trade``
jd      ``[{"msgId": "...", "topic": "...", "businessId": "...", "msgPayload": "<JSON>"}]``;
        msgPayload is the order

>>> [m.records for m in messages("jd", b'[{"msgId": "m1", "topic": "t", '
...                                  b'"msgPayload": "{\\\\"orderId\\\\": \\\\"1\\\\"}"}]')]
[[{'orderId': '1'}]]
>>> messages("jd", b'{"msgId": "m1"}')
Traceback (most recent call last):
...
hub.api.push_envelope.EnvelopeError: a jd push is a JSON list of messages
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from hub.errors import OrderHubError

MSG_ID_MAX_LEN = 128
# channel -> (id field, topic field, payload field, where the order sits in the payload)
FIELDS = {"douyin": ("msg_id", "tag", "data", "order"),
          "tmall": ("id", "topic", "content", "trade"),
          "jd": ("msgId", "topic", "msgPayload", None)}


class EnvelopeError(OrderHubError, ValueError):
    """A pushed body that is not the marketplace's envelope; the text says why."""


@dataclass(frozen=True, slots=True)
class PushMessage:
    msg_id: str
    topic: str
    records: list[Any]
    sent_s: float | None = None  # Douyin's msg_time; the others stamp the request


def _scalar_id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise EnvelopeError(f"{what} must be a non-empty string or integer")
    text = str(value)
    if len(text) > MSG_ID_MAX_LEN:
        raise EnvelopeError(f"{what} is longer than {MSG_ID_MAX_LEN} characters")
    return text


def _message(channel: str, raw: Any, n: int) -> PushMessage:
    id_key, topic_key, payload_key, order_key = FIELDS[channel]
    where = f"message {n}"
    if not isinstance(raw, dict):
        raise EnvelopeError(f"{where} is not an object")
    msg_id = _scalar_id(raw.get(id_key), f"{where}: {id_key}")
    topic = raw.get(topic_key)
    if isinstance(topic, bool) or not isinstance(topic, str | int):
        raise EnvelopeError(f"{where}: {topic_key} must be a string")
    text = raw.get(payload_key)
    if not isinstance(text, str):
        raise EnvelopeError(f"{where}: {payload_key} must be a JSON string")
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"{where}: {payload_key} is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise EnvelopeError(f"{where}: {payload_key} must hold a JSON object")
    if order_key is None:
        records = [payload]
    else:
        records = [payload[order_key]] if payload.get(order_key) is not None else []
    sent = None
    if channel == "douyin":
        sent = payload.get("msg_time")
        if isinstance(sent, bool) or not isinstance(sent, int | float) or not math.isfinite(
                sent):
            raise EnvelopeError(f"{where}: data.msg_time must be epoch seconds")
    return PushMessage(msg_id, str(topic), records, sent)


def messages(channel: str, body: bytes, parsed: Callable[[bytes], Any] = orjson.loads
             ) -> list[PushMessage]:
    """The messages of a pushed ``body`` (``parsed``: how to read its JSON, e.g. from what
    the request limits parsed already); :class:`EnvelopeError` when it is not one."""
    try:
        envelope = parsed(body)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(envelope, list):
        raise EnvelopeError(f"a {channel} push is a JSON list of messages")
    return [_message(channel, raw, n) for n, raw in enumerate(envelope)]
