"""Turn what callers hand the ledger into checked, serialised rows, before any
transaction starts: a bad or oversized item fails the call with nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from hub.app.wire import IngestRow
from hub.app.wire import model_fields as _fields
from hub.domain.decision import REDECIDES, Decision, Stage
from hub.domain.lifecycle import STAGES, decision_stage
from hub.domain.order import Order
from hub.ledger.base import (
    MAX_PAYLOAD_BYTES,
    LedgerError,
    OrderKey,
    OutboxMessage,
    PayloadTooLarge,
    StageEvent,
)
from hub.ledger.times import epoch, micros

MAX_ERROR_CHARS = 2000


def check_size(what: str, data: bytes | str) -> None:
    size = len(data)
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{what} is {size / 2**20:.2f} MiB, over the ledger's "
            f"{MAX_PAYLOAD_BYTES / 2**20:.0f} MiB limit; refused, nothing of this call was stored")


# msgspec, not orjson, on the write path: the same documents, and on this machine several
# times faster per call once the results are kept (orjson ~2.5 us for a four-key dict when
# a batch's results are kept alive, msgspec ~0.2 us; tests/ledger/test_rows.py checks the
# documents are the same)
_encoder = msgspec.json.Encoder(enc_hook=_fields)
_encode, _encode_into = _encoder.encode, _encoder.encode_into
_REFUSED = (TypeError, ValueError, OverflowError, msgspec.MsgspecError)


def dumps(value: Any) -> bytes:
    """JSON of caller data (outbox payloads, details); orjson for what msgspec refuses
    (dict keys that are not strings or integers, integers over 64 bits)."""
    try:
        return _encode(value)
    except _REFUSED:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


# Row values are bytearrays, not bytes: Python's sqlite3 binds a bytearray as it is but
# looks every bytes value up in its adapter registry first (~3,000 instructions each).
def blob(value: Any) -> bytes | bytearray:
    """:func:`dumps`, as a bytearray when msgspec takes the value."""
    out = bytearray()
    try:
        _encode_into(value, out)
    except _REFUSED:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return out


def order_json(order: Order) -> bytes:
    """The order as JSON: its fields by msgspec (pydantic models through their field
    dicts; four times faster than pydantic's own serialiser, same document); pydantic's
    serialiser for anything msgspec does not know."""
    try:
        return _encode(order)
    except _REFUSED:
        return order.__pydantic_serializer__.to_json(order)


def _order_blob(order: Order) -> bytes | bytearray:
    out = bytearray()
    try:
        _encode_into(order, out)
    except _REFUSED:
        return order.__pydantic_serializer__.to_json(order)
    return out


@dataclass(slots=True)
class OrderRow:
    order: Order | None  # None for a row that came encoded (``hub.app.wire``)
    key: OrderKey
    version_us: int
    status: str
    created_at: float
    index: int
    encoded: bytes | bytearray | None = None

    @property
    def body(self) -> bytes | bytearray:
        """The order's JSON, made only for orders that are written (re-pulls are mostly
        versions already stored)."""
        if self.encoded is None:
            body = _order_blob(self.order)
            if len(body) > MAX_PAYLOAD_BYTES:
                check_size(f"order {':'.join(self.key)} (ingest item {self.index})", body)
            self.encoded = body
        return self.encoded


def order_rows(orders: Sequence[Order]) -> list[OrderRow]:
    """One row per key (the newest version in the batch; the first of equal ones)."""
    rows: dict[OrderKey, OrderRow] = {}
    for index, order in enumerate(orders):
        if not isinstance(order, Order):
            raise LedgerError(f"ingest item {index}: expected an Order, got "
                              f"{type(order).__name__}")
        key = (order.channel._value_, order.shop, order.order_id)
        version = micros(order.modified_at)
        seen = rows.get(key)
        if seen is not None and seen.version_us >= version:
            continue
        rows[key] = OrderRow(order, key, version, order.status._value_,
                             order.created_at.timestamp(), index)
    return list(rows.values())


def wire_rows(rows: Sequence[IngestRow]) -> list[OrderRow]:
    """Rows made in the caller's process (``hub.app.wire.ingest_bytes``), checked here:
    their values' types by the decoder, each body's size here."""
    out = []
    for index, channel, shop, order_id, version, status, created_at, body in rows:
        key = (channel, shop, order_id)
        if len(body) > MAX_PAYLOAD_BYTES:
            check_size(f"order {':'.join(key)} (ingest item {index})", body)
        out.append(OrderRow(None, key, version, status, created_at, index, body))
    return out


# A decision is stored as a JSON list in this field order (format 1), not as an object:
# half the bytes and a third of the time of serialising the dataclass.
DECISION_FIELDS = ("channel", "shop", "order_id", "version", "lane", "score", "breakdown",
                   "packing_group", "anomalies", "hold_reason", "remedies", "delivery",
                   "alert_groups", "rules_fired", "ruleset_version", "extra")


def decision_body(d: Decision) -> bytes | bytearray:
    return blob([
        1, d.channel, d.shop, d.order_id, d.version, d.lane, d.score, d.breakdown,
        d.packing_group, [(a.code, a.severity, a.group, a.detail) for a in d.anomalies],
        d.hold_reason, d.remedies, d.delivery, d.alert_groups, d.rules_fired,
        d.ruleset_version, d.extra])


def decision_from_body(body: bytes | memoryview) -> Decision:
    data = orjson.loads(body)
    if not isinstance(data, list) or data[0] != 1:
        raise LedgerError(f"stored decision has an unknown format: {bytes(body)[:60]!r}")
    fields = dict(zip(DECISION_FIELDS, data[1:], strict=True))
    fields["anomalies"] = [dict(zip(("code", "severity", "group", "detail"), a, strict=True))
                           for a in fields["anomalies"]]
    return Decision.from_dict(fields)


@dataclass(slots=True)
class DecisionRow:
    key: OrderKey
    version_us: int
    stage: str
    body: bytes | bytearray
    lane: str
    score: float
    packing_group: str
    hold_reason: str | None
    hold_group: str | None
    ruleset_version: int
    detail: bytes | bytearray | None  # {stage: detail} of its events, None when all empty
    version: str = ""  # the decision's version as given (names a follow-up's change)
    redecides: bool = False  # decides a held version again (``decision.REDECIDES``)


def _version_us(decision: Decision, index: int) -> int:
    try:
        moment = datetime.fromisoformat(decision.version)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise LedgerError(f"decision {index} ({':'.join(decision.key)}): version "
                          f"{decision.version!r} is not an ISO 8601 time with a zone")
    return micros(moment)


def decision_rows(decisions: Sequence[Decision]) -> list[DecisionRow]:
    rows = []
    for index, d in enumerate(decisions):
        if not isinstance(d, Decision):
            raise LedgerError(f"decision {index}: expected a Decision, got {type(d).__name__}")
        key = (d.channel, d.shop, d.order_id)
        body = decision_body(d)
        if len(body) > MAX_PAYLOAD_BYTES:
            check_size(f"decision {index} ({':'.join(key)})", body)
        stage = decision_stage(d.hold_reason, d.remedies).value  # a plain str binds fastest
        group = None
        detail: dict[str, Any] = {}
        if d.anomalies:
            detail[Stage.VALIDATED.value] = {"anomalies": [a.code for a in d.anomalies]}
        if d.hold_reason:
            detail[Stage.HELD.value] = {"reason": d.hold_reason}
            group = next((a.group for a in d.anomalies if a.code == d.hold_reason),
                         d.alert_groups[0] if d.alert_groups else None)
        elif d.remedies:
            detail[Stage.AUTO_REMEDIED.value] = {"remedies": list(d.remedies)}
        rows.append(DecisionRow(
            key, _version_us(d, index), stage, body, d.lane, float(d.score), d.packing_group,
            d.hold_reason, group, int(d.ruleset_version), blob(detail) if detail else None,
            d.version, REDECIDES in d.extra))
    return rows


@dataclass(slots=True)
class OutboxRow:
    key: str
    destination: str
    order_ref: OrderKey | None
    payload: bytes | bytearray


def outbox_rows(messages: Sequence[OutboxMessage]) -> list[OutboxRow]:
    rows = []
    for index, m in enumerate(messages):
        if not isinstance(m, OutboxMessage):
            raise LedgerError(f"outbox row {index}: expected an OutboxMessage, got "
                              f"{type(m).__name__}")
        if not m.key or not m.destination:
            raise LedgerError(f"outbox row {index}: key and destination must not be empty")
        payload = blob(m.payload)
        if len(payload) > MAX_PAYLOAD_BYTES:
            check_size(f"outbox row {index} ({m.key}) payload", payload)
        rows.append(OutboxRow(m.key, m.destination, m.order_ref(), payload))
    return rows


@dataclass(slots=True)
class StageRow:
    event: StageEvent
    key: OrderKey
    stage: str
    at: float
    detail: bytes | bytearray | None


def stage_rows(events: Sequence[StageEvent]) -> list[StageRow]:
    rows = []
    for index, e in enumerate(events):
        if not isinstance(e, StageEvent):
            raise LedgerError(f"stage event {index}: expected a StageEvent, got "
                              f"{type(e).__name__}")
        if e.stage not in STAGES:
            raise LedgerError(f"stage event {index} ({':'.join(map(str, e.key))}): stage "
                              f"{e.stage!r} is not one of {', '.join(sorted(STAGES))}")
        key = tuple(e.key)
        if len(key) != 3 or not all(isinstance(part, str) for part in key):
            raise LedgerError(f"stage event {index}: key {e.key!r} is not "
                              "(channel, shop, order_id)")
        detail = blob(e.detail) if e.detail else None
        if detail is not None:
            check_size(f"stage event {index} detail", detail)
        rows.append(StageRow(e, key, e.stage, epoch(e.at, f"stage event {index} at"),  # type: ignore[arg-type]
                             detail))
    return rows


def raw_bytes(raw: Any) -> bytes:
    """A quarantined record as bytes: as given, UTF-8 for text, JSON for parsed data."""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
    elif isinstance(raw, str):
        data = raw.encode("utf-8", errors="surrogatepass")
    else:
        try:
            data = orjson.dumps(raw, default=repr, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            data = repr(raw).encode("utf-8", errors="replace")
    check_size("quarantined raw payload", data)
    return data


def error_text(error: str) -> str:
    text = str(error)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


@dataclass(slots=True)
class OperatorRows:
    """One operator action, checked and serialised: an amended order version with its
    decision (or neither), the outbox rows owed, and the operator's stage event."""

    key: OrderKey
    only_from: frozenset[str]
    amended: OrderRow | None
    decided: list[DecisionRow]
    outbox: list[OutboxRow]
    event: list[StageRow]


def operator_rows(key: OrderKey, stage: str, at: datetime, detail: dict[str, Any],
                  only_from: Sequence[str], outbox: Sequence[OutboxMessage],
                  amended: Order | None, decision: Decision | None) -> OperatorRows:
    key = tuple(key)  # type: ignore[assignment]
    if (amended is None) != (decision is None):
        raise LedgerError(f"operator action on {':'.join(key)}: an amended order needs its "
                          "decision, and a decision its amended order")
    order_row = None
    decided: list[DecisionRow] = []
    if amended is not None and decision is not None:
        [order_row] = order_rows([amended])
        if order_row.key != key:
            raise LedgerError(f"operator action on {':'.join(key)}: the amended order is "
                              f"{':'.join(order_row.key)}")
        order_row.body  # noqa: B018 -- serialised (and its size checked) before the transaction
        decided = decision_rows([decision])
        if decided[0].key != key or decided[0].version_us != order_row.version_us:
            raise LedgerError(f"operator action on {':'.join(key)}: the decision is not about "
                              "the amended version")
    return OperatorRows(key, frozenset(str(s) for s in only_from), order_row, decided,
                        outbox_rows(outbox),
                        stage_rows([StageEvent(key=key, stage=str(stage), at=at,
                                               detail=detail)]))
