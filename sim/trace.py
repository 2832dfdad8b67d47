"""A trace: the timed order events a surge generator writes and the emulators replay.

One JSON object per line. The first line is a header::

    {"trace": 1, "scenario": "double11-42k", "seed": 7, "origin": "2026-11-11T00:00:00+08:00",
     "window": ["00:00", "03:00"], "meta": {...}}

Every other line is an event, ordered by ``at`` (business seconds after ``origin``)::

    {"at": 12.5, "kind": "created", "order": {<canonical Order>},
     "truth": ["incomplete_address"], "observable": {"incomplete_address": 12.5}}

``order`` is the whole canonical order after the event (its ``modified_at`` equals
``origin + at``). ``truth`` lists the anomaly reason codes the generator planted
in this order (ground truth; empty for a clean order), and ``observable`` when each of
them became observable (business seconds after ``origin``: an incomplete address at
creation, a payment mismatch only once paid). ``odd`` (only on the ``created`` event of
a clean order the generator made valid-but-odd on purpose, a hard negative) names
what is odd about it, e.g. ``["no_district_city"]``; its ``truth`` stays empty. Faults
and rule changes are events too, with ``kind`` ``fault`` or ``rules`` and a ``detail``
object instead of an order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import orjson

from hub.domain import Order


class EventKind(StrEnum):
    CREATED = "created"
    PAID = "paid"
    PRESALE_FINAL = "presale_final"
    ADDRESS_CHANGED = "address_changed"
    CANCELLED = "cancelled"
    FAULT = "fault"
    RULES = "rules"


@dataclass(frozen=True, slots=True)
class TraceEvent:
    at: float
    kind: EventKind
    order: Order | None = None
    truth: tuple[str, ...] = ()
    detail: dict = field(default_factory=dict)
    observable: dict[str, float] = field(default_factory=dict)  # code -> at (s)
    odd: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        data: dict = {"at": self.at, "kind": self.kind.value}
        if self.order is not None:
            data["order"] = self.order.model_dump(mode="json")
            data["truth"] = list(self.truth)
            data["observable"] = self.observable
            if self.odd:
                data["odd"] = list(self.odd)
        if self.detail:
            data["detail"] = self.detail
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, line: bytes | str) -> TraceEvent:
        data = orjson.loads(line)
        order = Order.model_validate(data["order"]) if "order" in data else None
        return cls(
            at=float(data["at"]),
            kind=EventKind(data["kind"]),
            order=order,
            truth=tuple(data.get("truth", ())),
            detail=data.get("detail", {}),
            observable={k: float(v) for k, v in data.get("observable", {}).items()},
            odd=tuple(data.get("odd", ())),
        )


@dataclass(frozen=True, slots=True)
class TraceHeader:
    scenario: str
    seed: int
    origin: datetime
    window: tuple[str, str] = ("00:00", "24:00")
    meta: dict = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "trace": 1,
                "scenario": self.scenario,
                "seed": self.seed,
                "origin": self.origin.isoformat(),
                "window": list(self.window),
                "meta": self.meta,
            }
        )


def write_trace(path: Path, header: TraceHeader, events: Iterable[TraceEvent]) -> int:
    """Write a trace file; returns the number of events written."""
    count = 0
    with Path(path).open("wb") as out:
        out.write(header.to_json() + b"\n")
        for event in events:
            out.write(event.to_json() + b"\n")
            count += 1
    return count


def read_trace(path: Path) -> tuple[TraceHeader, Iterator[TraceEvent]]:
    """Read a trace file: the header at once, the events lazily."""
    handle = Path(path).open("rb")  # noqa: SIM115 - closed by the events generator
    first = orjson.loads(handle.readline())
    if first.get("trace") != 1:
        handle.close()
        raise ValueError(f"{path}: not an OrderHub trace (missing header line)")
    header = TraceHeader(
        scenario=first["scenario"],
        seed=first["seed"],
        origin=datetime.fromisoformat(first["origin"]),
        window=tuple(first.get("window", ("00:00", "24:00"))),
        meta=first.get("meta", {}),
    )

    def events() -> Iterator[TraceEvent]:
        with handle:
            for line in handle:
                if line.strip():
                    yield TraceEvent.from_json(line)

    return header, events()
