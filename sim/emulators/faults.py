"""Faults an emulated marketplace can inject, switched on by trace ``fault`` events or
``POST /_control/faults``.

A fault is active from when it is switched on until ``duration_s`` of business time
has passed, or until it has hit ``count`` requests (pages, events), whichever comes
first; with neither it stays on until cleared. ``rate`` makes it hit only that share
of what it could hit (seeded, so a rehearsal repeats).

>>> from datetime import datetime
>>> from hub.clock import SHANGHAI
>>> board = FaultBoard(seed=1)
>>> t = datetime(2026, 11, 11, tzinfo=SHANGHAI)
>>> _ = board.add(FaultSpec(kind="5xx", count=2), t)
>>> [board.take(FaultKind.SERVER_ERROR, t) is not None for _ in range(3)]
[True, True, False]
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FaultKind(StrEnum):
    SERVER_ERROR = "5xx"  # HTTP 5xx with the marketplace's error body
    TIMEOUT = "timeout"  # answer only after sleep_s wall seconds (past the client's timeout)
    THROTTLE = "throttle"  # the marketplace's own throttling error
    OUTAGE = "outage"  # every call fails: HTTP 503, or connections refused (mode refused)
    MALFORMED = "malformed"  # a record with a broken field injected into a page
    DUPLICATE = "duplicate"  # the previous page's last record served again on this page
    LATE = "late"  # order events become visible delay_s after their modified time


ALIASES = {"server_error": "5xx", "5xx_burst": "5xx", "500": "5xx", "503": "5xx",
           "throttling": "throttle", "throttled": "throttle", "slow": "timeout",
           "malformed_record": "malformed", "duplicates": "duplicate", "late_record": "late",
           "late_records": "late", "down": "outage"}
REQUEST_FAULTS = (FaultKind.OUTAGE, FaultKind.TIMEOUT, FaultKind.SERVER_ERROR,
                  FaultKind.THROTTLE)


class FaultSpec(BaseModel):
    """One fault as the control endpoint or a trace ``fault`` event gives it."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    channel: str | None = None  # in a trace: which emulator it is for (None or "*": all)
    duration_s: float | None = Field(default=None, gt=0)  # business seconds
    count: int | None = Field(default=None, ge=1)
    rate: float | None = Field(default=None, gt=0, le=1)
    status: int = Field(default=503, ge=500, le=599)  # 5xx: the HTTP status
    sleep_s: float = Field(default=3.0, ge=0, le=120)  # timeout: wall seconds before answering
    delay_s: float = Field(default=120.0, ge=0)  # late: business seconds of delay
    mode: Literal["503", "refused"] = "503"  # outage

    @field_validator("kind", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return ALIASES.get(str(value).lower(), str(value).lower()) if value is not None else value

    @classmethod
    def from_trace(cls, detail: dict[str, Any]) -> FaultSpec:
        """A trace event's detail; keys this emulator does not know are ignored."""
        return cls.model_validate({k: v for k, v in detail.items() if k in cls.model_fields})

    def applies_to(self, channel: str) -> bool:
        return self.channel in (None, "", "*", "all", channel)


@dataclass(slots=True)
class Fault:
    id: int
    spec: FaultSpec
    since: datetime
    until: datetime | None
    remaining: int | None
    hits: int = 0

    @property
    def kind(self) -> FaultKind:
        return self.spec.kind

    def live(self, now: datetime) -> bool:
        return (self.until is None or now < self.until) and self.remaining != 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec.model_dump(exclude_none=True, mode="json"),
                "since": self.since.isoformat(),
                "until": self.until.isoformat() if self.until else None,
                "remaining": self.remaining, "hits": self.hits}


class FaultBoard:
    """The faults switched on for one emulator. Thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, spec: FaultSpec, now: datetime) -> Fault:
        until = now + timedelta(seconds=spec.duration_s) if spec.duration_s else None
        with self._lock:
            fault = Fault(self._next_id, spec, now, until, spec.count)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self, kind: FaultKind | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if kind is not None and f.kind != kind]
            return before - len(self._faults)

    def take(self, kind: FaultKind, now: datetime) -> Fault | None:
        """The first live fault of ``kind`` that hits now (spends one of its count)."""
        with self._lock:
            self._faults = [f for f in self._faults if f.live(now)]
            for fault in self._faults:
                if fault.kind != kind or now < fault.since:
                    continue
                if fault.spec.rate is not None and self._rng.random() >= fault.spec.rate:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
            return None

    def refusing(self, now: datetime) -> bool:
        """An outage in ``refused`` mode is on: the server should not listen."""
        with self._lock:
            return any(f.kind == FaultKind.OUTAGE and f.spec.mode == "refused" and f.live(now)
                       and now >= f.since for f in self._faults)

    def active(self, now: datetime) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults if f.live(now)]
