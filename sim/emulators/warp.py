"""A clock that can be told to run faster from now on: the warehouse's own clock,
so a rehearsal can let the WMS finish its queue quickly once no order is arriving.

``WarpClock(base)`` reads ``base`` while its factor is 1; ``fast_forward(f)`` makes
its business time advance ``f`` times as fast as ``base`` from that moment on. Time
never jumps and never runs backwards.

>>> from datetime import datetime
>>> from hub.clock import ManualClock, SHANGHAI
>>> base = ManualClock(datetime(2026, 11, 11, tzinfo=SHANGHAI))
>>> clock = WarpClock(base)
>>> base.advance(60); _ = clock.fast_forward(10); base.advance(60)
>>> clock.now().isoformat()
'2026-11-11T00:11:00+08:00'
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from hub.clock import Clock


class WarpClock(Clock):
    def __init__(self, base: Clock) -> None:
        self.base = base
        self.factor = 1.0
        self._lock = threading.Lock()
        self._anchor = base.now()  # (this clock's time, the base's time) when last warped
        self._base_anchor = self._anchor

    @property
    def speedup(self) -> float:  # type: ignore[override]
        return self.base.speedup * self.factor

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        elapsed = (self.base.now() - self._base_anchor).total_seconds()
        return self._anchor + timedelta(seconds=elapsed * self.factor)

    def fast_forward(self, factor: float) -> datetime:
        """Run ``factor`` times as fast as the base clock from now; returns now."""
        if not factor > 0:
            raise ValueError(f"factor: a positive number is needed, got {factor!r}")
        with self._lock:
            now = self._now()
            self._anchor, self._base_anchor, self.factor = now, self.base.now(), float(factor)
            return now

    def as_dict(self) -> dict:
        return {"factor": self.factor, "now": self.now().isoformat(),
                "warped_at": self._anchor.isoformat()}
