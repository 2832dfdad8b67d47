"""Time is injected. ``Clock`` gives business time; ``ScaledClock`` runs it faster
than the wall for rehearsals, ``ManualClock`` lets tests step it by hand.

>>> from datetime import datetime
>>> from hub.clock import ManualClock, SHANGHAI
>>> clock = ManualClock(datetime(2026, 11, 11, tzinfo=SHANGHAI))
>>> clock.advance(30)
>>> clock.now().isoformat()
'2026-11-11T00:00:30+08:00'
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from hub.domain.order import SHANGHAI


class Clock:
    """Wall time in Asia/Shanghai. Subclasses change how fast business time runs."""

    speedup: float = 1.0

    def now(self) -> datetime:
        return datetime.now(SHANGHAI)

    def sleep(self, business_seconds: float) -> None:
        """Sleep for a span of business time."""
        time.sleep(max(business_seconds, 0.0) / self.speedup)

    def wall_seconds(self, business_seconds: float) -> float:
        return business_seconds / self.speedup

    def business_seconds(self, wall_seconds: float) -> float:
        return wall_seconds * self.speedup


class ScaledClock(Clock):
    """Business time starts at ``origin`` when the clock is made and runs ``speedup``
    times faster than the wall. Two processes given the same ``origin``,
    ``wall_origin`` and ``speedup`` read the same time."""

    def __init__(self, origin: datetime, speedup: float = 1.0, wall_origin: float | None = None):
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self.origin = origin.astimezone(SHANGHAI)
        self.speedup = float(speedup)
        self.wall_origin = time.time() if wall_origin is None else wall_origin

    def now(self) -> datetime:
        elapsed = (time.time() - self.wall_origin) * self.speedup
        return self.origin + timedelta(seconds=elapsed)

    def business_at(self, wall: float) -> datetime:
        return self.origin + timedelta(seconds=(wall - self.wall_origin) * self.speedup)

    def wall_at(self, business: datetime) -> float:
        return self.wall_origin + (business - self.origin).total_seconds() / self.speedup

    def as_dict(self) -> dict:
        return {
            "origin": self.origin.isoformat(),
            "speedup": self.speedup,
            "wall_origin": self.wall_origin,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ScaledClock:
        return cls(datetime.fromisoformat(data["origin"]), data["speedup"], data["wall_origin"])


class ManualClock(Clock):
    """A clock that moves only when told to; ``sleep`` advances it at once."""

    def __init__(self, start: datetime):
        self._now = start.astimezone(SHANGHAI)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def sleep(self, business_seconds: float) -> None:
        self.advance(max(business_seconds, 0.0))
