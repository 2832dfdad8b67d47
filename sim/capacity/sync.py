"""How an order reaches the back office, and how a person learns of an anomaly:
vectorised over the day's orders (the queues here are first come, first served, so a
running maximum over batches is the whole simulation).

- ``export``: the old flow's batch exports every ``interval`` seconds, imported by the
  ERP one order after another at ``import_per_s``.
- ``pull``: the hub asks each channel/shop every ``interval`` seconds (each puller at
  its own phase); a pulled page is decided after the hub's measured latency, queued
  behind earlier pages when the offered load passes its measured capacity.
- ``push``: the marketplace pushes each order; the same hub latency and capacity.
- ``patrol``: the old flow's clerks look over the orders synced since their last round,
  ``check_s`` each, ``clerks`` at a time; they miss an anomaly at ``miss_rate`` and
  flag clean orders so that ``misjudgement`` of their flags are wrong.
- ``people``: held orders wait for one of ``clerks`` people (first come, first served).
"""

from __future__ import annotations

import heapq

import numpy as np


def export(paid: np.ndarray, interval: float, phase: float, import_per_s: float
           ) -> np.ndarray:
    """When each order is in the ERP (``paid`` sorted)."""
    if paid.size == 0:
        return paid.copy()
    batch_at = phase + interval * np.ceil((paid - phase) / interval)
    ready = np.empty_like(paid)
    free = -np.inf
    starts, counts = np.unique(batch_at, return_counts=True)
    i = 0
    for at, count in zip(starts.tolist(), counts.tolist(), strict=True):
        begin = max(at, free)
        ready[i:i + count] = begin + np.arange(1, count + 1) / import_per_s
        free = begin + count / import_per_s
        i += count
    return ready


def hub_pass(arrive: np.ndarray, latency_s: float, capacity_per_s: float) -> np.ndarray:
    """When the hub has decided and dispatched each page that arrived at ``arrive``
    (groups of equal times are one page): its latency, or later when pages queue
    behind the capacity."""
    out = np.empty_like(arrive)
    if arrive.size == 0:
        return out
    order = np.argsort(arrive, kind="stable")
    times, first, counts = np.unique(arrive[order], return_index=True, return_counts=True)
    free = -np.inf
    for at, lo, count in zip(times.tolist(), first.tolist(), counts.tolist(), strict=True):
        free = max(free, at) + count / capacity_per_s
        out[order[lo:lo + count]] = max(at + latency_s, free)
    return out


def pulled_at(times: np.ndarray, puller: np.ndarray, interval: float,
              phases: np.ndarray, lag_s: float = 0.2) -> np.ndarray:
    """The start of the first pull of the order's puller after ``times`` (+ a lag)."""
    phase = phases[puller]
    return phase + interval * np.ceil((times + lag_s - phase) / interval)


def patrol(synced: np.ndarray, anomaly: np.ndarray, *, interval: float, phase: float,
           clerks: int, check_s: float, miss_rate: float, misjudgement: float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(found_at, flagged): when a clerk flags each order (inf: never) and whether the
    flag is on a true anomaly (``flagged``) or a misjudged clean order."""
    n = synced.size
    found = np.full(n, np.inf)
    if n == 0:
        return found, np.zeros(0, dtype=bool)
    share = float((anomaly >= 0).mean())
    false_p = misjudgement / (1 - misjudgement) * share * (1 - miss_rate) / max(1 - share,
                                                                                1e-9)
    seen = np.where(anomaly >= 0, rng.random(n) >= miss_rate, rng.random(n) < false_p)
    order = np.argsort(synced, kind="stable")
    rounds = phase + interval * np.ceil((synced[order] - phase) / interval)
    times, first, counts = np.unique(rounds, return_index=True, return_counts=True)
    per = check_s / max(clerks, 1)
    busy_until = -np.inf
    for at, lo, count in zip(times.tolist(), first.tolist(), counts.tolist(), strict=True):
        begin = max(at, busy_until)
        idx = order[lo:lo + count]
        found[idx] = begin + per * np.arange(1, count + 1)
        busy_until = begin + per * count
    found[~seen] = np.inf
    return found, seen & (anomaly >= 0)


def people(arrive: np.ndarray, clerks: int, fix_s: float) -> np.ndarray:
    """When each held order (arriving at ``arrive``; inf: never) is fixed by one of
    ``clerks`` people, first come, first served."""
    done = np.full(arrive.size, np.inf)
    free = [0.0] * max(clerks, 1)
    for i in np.argsort(arrive, kind="stable").tolist():
        at = float(arrive[i])
        if not np.isfinite(at):
            break
        start = max(at, heapq.heappop(free))
        done[i] = start + fix_s
        heapq.heappush(free, done[i])
    return done
