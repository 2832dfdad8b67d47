"""How long Python's cyclic garbage collector stopped this process.

A full collection walks every live container object while holding the
interpreter lock; in a process that holds many orders (the router's recent
orders, the ledger writer's key cache, a rehearsal's emulators) one walk took
0.2-0.9 s on the 2-core machine, during which the process answers nothing. Each
hub actor counts its pauses so a stall shows up in its stats and on /metrics.

>>> watch = GcWatch.install()
>>> import gc; _ = gc.collect()
>>> snap = watch.snapshot()
>>> snap["collections"][2] >= 1 and snap["max_pause_s"] >= 0
True
"""

from __future__ import annotations

import gc
import time
from typing import Any, ClassVar


class GcWatch:
    """One per process (``install`` returns the same one each time)."""

    _installed: ClassVar[GcWatch | None] = None

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.pause_s = [0.0, 0.0, 0.0]
        self.max_pause_s = 0.0
        self._began = 0.0

    @classmethod
    def install(cls) -> GcWatch:
        if cls._installed is None:
            cls._installed = cls()
            gc.callbacks.append(cls._installed._callback)
        return cls._installed

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        pause = time.perf_counter() - self._began
        generation = info["generation"]
        self.collections[generation] += 1
        self.pause_s[generation] += pause
        self.max_pause_s = max(self.max_pause_s, pause)

    def snapshot(self) -> dict[str, Any]:
        """Collections and seconds paused per generation (0, 1, 2), and the longest pause."""
        return {"collections": list(self.collections),
                "pause_s": [round(s, 4) for s in self.pause_s],
                "max_pause_s": round(self.max_pause_s, 4)}


def max_pauses(stats: dict[str, Any]) -> dict[str, float]:
    """Each process's longest pause, from ``Hub.stats()`` (a pool's replicas numbered)."""
    out = {}
    for name, value in stats.items():
        for i, one in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(one, dict) and "gc" in one:
                out[f"{name}{i if isinstance(value, list) else ''}"] = one["gc"]["max_pause_s"]
    return out
