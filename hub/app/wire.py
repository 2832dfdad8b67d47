"""What crosses a process boundary on the hot path, as bytes encoded once in C.

A puller's orders go to the ledger's single writer as the rows it stores
(``ingest_bytes``): key, version, status, creation time and the order's JSON body,
made in the puller's process, so the writer neither rebuilds ``Order`` models nor
serialises them (it still checks every row). Outbox rows the relay claims come back as
the writer read them, their payloads parsed in the relay. A decided batch (its ``Decision`` structs
and ``OutboxMessage`` rows) goes from the router to the writer as one msgpack blob:
Ray's pickler would call
back into Python for every struct, field container and row (its ``reducer_override``),
where msgspec encodes and decodes the typed batch without leaving C.

>>> from hub.domain.decision import Anomaly, Decision
>>> from hub.domain.outbox import OutboxMessage
>>> d = Decision("jd", "s", "J1", "2026-11-11T00:00:01+08:00", "P1", 0.5, {"vip": 0.5},
...              "g", (Anomaly("address", "warn", "cs", ""),), None, ("fix",))
>>> m = OutboxMessage("wms", "dispatch:jd:s:J1", {"lines": [["A", 2]]}, ("jd", "s", "J1"))
>>> decided(decided_bytes([d], [m])) == ([d], [m])
True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import orjson
from pydantic import BaseModel

from hub.app.records import micros
from hub.domain.decision import Decision
from hub.domain.order import SHANGHAI, Order
from hub.domain.outbox import OutboxMessage

_encoder = msgspec.msgpack.Encoder()
_json_loads, _at = orjson.loads, datetime.fromtimestamp
# (position in the batch, channel, shop, order id, version us, status, created at, body)
IngestRow = tuple[int, str, str, str, int, str, float, bytearray]
_ingest = msgspec.msgpack.Decoder(list[IngestRow])
_MODELS: set[type] = set()


def model_fields(value: Any) -> dict[str, Any]:
    """msgspec's hook for what it does not know: a pydantic model is its fields."""
    kind = type(value)
    if kind not in _MODELS:
        if not isinstance(value, BaseModel):
            raise TypeError(f"{kind.__name__} is not JSON serialisable")
        _MODELS.add(kind)
    return value.__dict__


_json = msgspec.json.Encoder(enc_hook=model_fields).encode
_REFUSED = (TypeError, ValueError, OverflowError, msgspec.MsgspecError)


def order_body(order: Order) -> bytes:
    """The order's JSON as the ledger stores it: its fields by msgspec (pydantic models
    through their field dicts), pydantic's serialiser for anything msgspec refuses."""
    try:
        return _json(order)
    except _REFUSED:
        return order.__pydantic_serializer__.to_json(order)


def ingest_bytes(orders: Sequence[Order]) -> bytes | None:
    """The rows the ledger stores for ``orders``: one per key, the newest version in the
    batch (the first of equal ones), each with its position in ``orders``. None when an
    item is not an ``Order`` (the ledger's own path then refuses it with the reason)."""
    rows: dict[tuple[str, str, str], tuple] = {}
    for index, order in enumerate(orders):
        if not isinstance(order, Order):
            return None
        key = (order.channel._value_, order.shop, order.order_id)
        version = micros(order.modified_at)
        seen = rows.get(key)
        if seen is not None and seen[4] >= version:
            continue
        rows[key] = (index, *key, version, order.status._value_, order.created_at.timestamp(),
                     order)
    return _encoder.encode([(*row[:7], order_body(row[7])) for row in rows.values()])


def ingest_rows(blob: bytes) -> list[IngestRow]:
    """The rows of ``ingest_bytes`` (bodies as bytearrays, which sqlite3 binds as they are)."""
    return _ingest.decode(blob)
_decided = msgspec.msgpack.Decoder(tuple[list[Decision], list[OutboxMessage]])


# (id, destination, key, payload JSON, attempts, next attempt at in epoch s, last error)
_claimed = msgspec.msgpack.Decoder(list[tuple[int, str, str, Any, int, float | None,
                                              str | None]])


def claimed_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """Claimed outbox rows as the writer read them (payloads still JSON), for the relay."""
    return _encoder.encode([tuple(row) for row in rows])


def claimed(blob: bytes) -> list[OutboxMessage]:
    """The relay's side of ``claimed_bytes``: the messages, payloads parsed here."""
    return [OutboxMessage(destination=r[1], key=r[2], payload=_json_loads(r[3]), id=r[0],
                          attempts=r[4], last_error=r[6],
                          next_attempt_at=None if r[5] is None else _at(r[5], SHANGHAI))
            for r in _claimed.decode(blob)]


def decided_bytes(decisions: Sequence[Decision], outbox: Sequence[OutboxMessage]) -> bytes:
    """A decided batch as one blob for the ledger (``decided`` reads it back)."""
    return _encoder.encode((decisions, outbox))


def decided(blob: bytes) -> tuple[list[Decision], list[OutboxMessage]]:
    """The decisions and outbox rows of ``decided_bytes``."""
    return _decided.decode(blob)
