"""How long Python's cyclic garbage collector stopped this process.

A full collection walks every live container object while holding the
interpreter lock; in a process that holds many orders (the router's recent
orders, the ledger writer's key cache, a rehearsal's emulators) one walk took
0.2-0.9 s on the 2-core machine, during which the process answers nothing. Each
hub actor counts its pauses so a stall shows up in its stats and on /metrics.

Each hub actor also raises the collector's thresholds (``ACTOR_THRESHOLD``): a batch
of orders unpickled is thousands of short-lived acyclic objects, and at Python's
default (700, 10, 10) every batch set off several young collections that walked the
objects the actor keeps as well; pickling a batch cost twice as much as with the
collector off. The hub's ``gc_threshold`` setting (e.g. ``ORDERHUB_GC_THRESHOLD=700,10,10``)
overrides it; the composition root hands it to each actor.

>>> watch = GcWatch.install()
>>> import gc; _ = gc.collect()
>>> snap = watch.snapshot()
>>> snap["collections"][2] >= 1 and snap["max_pause_s"] >= 0
True
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any, ClassVar

ACTOR_THRESHOLD = (50_000, 20, 100)


def checked_threshold(values: Sequence[int]) -> tuple[int, ...]:
    """``values`` as collector thresholds: one to three non-negative integers.

    >>> checked_threshold([700, 10, 10])
    (700, 10, 10)
    >>> checked_threshold((1, 2, 3, 4))
    Traceback (most recent call last):
    ...
    ValueError: gc threshold (1, 2, 3, 4): expected up to three non-negative integers ...
    """
    values = tuple(values)
    if (not 1 <= len(values) <= 3
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values)):
        raise ValueError(f"gc threshold {values!r}: expected up to three non-negative "
                         "integers such as 700,10,10")
    return values


class GcWatch:
    """One per process (``install`` returns the same one each time)."""

    _installed: ClassVar[GcWatch | None] = None

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.pause_s = [0.0, 0.0, 0.0]
        self.max_pause_s = 0.0
        self._began = 0.0

    @classmethod
    def install(cls, *, actor: bool = False,
                threshold: Sequence[int] | None = None) -> GcWatch:
        """The process's watch; ``actor``: this process is a hub actor, so the collector
        runs with ``threshold`` (default ``ACTOR_THRESHOLD``)."""
        if cls._installed is None:
            cls._installed = cls()
            gc.callbacks.append(cls._installed._callback)
        if actor:
            gc.set_threshold(*checked_threshold(
                ACTOR_THRESHOLD if threshold is None else threshold))
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
