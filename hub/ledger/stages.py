"""How an order's current stage moves, outbox backoff, and stage durations.

Events are append-only; the order row keeps one *current* stage. Before
fulfilment (received .. routed / held / released) any event moves it, so a new
version of an order goes back to ``received`` until it is decided again. Once
the WMS has it (dispatched, picked, packed, shipped) it only moves forward; a
cancellation sticks; a reconcile mismatch always shows and is cleared by the
next event.

>>> moves("routed", "received"), moves("packed", "picked"), moves("shipped", "cancelled")
(True, False, True)
>>> decision_stage(hold_reason=None, remedies=("delivery->express",))
'auto_remedied'
>>> [backoff_s(n) for n in (1, 2, 3, 10)]
[1.0, 2.0, 4.0, 300.0]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from hub.domain.decision import Stage
from hub.domain.order import SHANGHAI

STAGES = frozenset(s.value for s in Stage)
PHASE = {
    "received": 0, "validated": 1, "scored": 1,
    "routed": 2, "held": 2, "auto_remedied": 2, "released": 2,
    "dispatched": 3, "picked": 4, "packed": 5, "shipped": 6, "cancelled": 7,
}
ALWAYS = ("cancelled", "reconcile_mismatch")
WAREHOUSE = ("picked", "packed", "shipped")  # reported by the WMS; each stored once
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
DISPATCH_DESTINATION = "wms"  # delivering a row here records the order's `dispatched` stage


def moves(current: str, new: str) -> bool:
    """Whether an event of stage ``new`` becomes the order's current stage."""
    if new in ALWAYS or current == "reconcile_mismatch":
        return True
    now, then = PHASE[new], PHASE[current]
    return then <= 2 or now >= then


def decision_stage(hold_reason: str | None, remedies: tuple[str, ...]) -> str:
    if hold_reason:
        return "held"
    return "auto_remedied" if remedies else "routed"


def backoff_s(attempts: int) -> float:
    """Delay before the next delivery attempt after ``attempts`` tries (1 s doubling, 5 min cap)."""
    return min(BACKOFF_BASE_S * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_S)


# -- time ----------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch(moment: datetime, what: str = "time") -> float:
    """Seconds since the epoch of an aware datetime (the ledger stores times this way)."""
    if moment.tzinfo is None:
        from hub.ledger.base import LedgerError

        raise LedgerError(f"{what}: {moment.isoformat()} has no time zone; pass an aware datetime")
    return moment.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, SHANGHAI)


def micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch: an order version."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    seconds, us = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, SHANGHAI).replace(microsecond=us)


# -- stage durations (ETA) -------------------------------------------------------------------
def _percentile(ordered: list[float], q: float) -> float:
    index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def durations(rows: Iterable[tuple[int, str | None, str, float]]) -> list[dict]:
    """Per lane, the time between consecutive stages of each order.

    ``rows`` are (order ref, lane, stage, at epoch) sorted by order, time, event id.
    Returns one dict per (lane, from, to) with n, mean_s, p50_s, p90_s, max_s.

    >>> durations([(1, "P0", "received", 0.0), (1, "P0", "routed", 2.0),
    ...            (2, "P0", "received", 5.0), (2, "P0", "routed", 9.0)])[0]["mean_s"]
    3.0
    """
    spans: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    last: tuple[int, str, float] | None = None
    for ref, lane, stage, at in rows:
        if last is not None and last[0] == ref:
            spans[(lane or "", last[1], stage)].append(at - last[2])
        last = (ref, stage, at)
    out = []
    for (lane, before, after), values in sorted(spans.items()):
        values.sort()
        out.append({
            "lane": lane, "from": before, "to": after, "n": len(values),
            "mean_s": round(sum(values) / len(values), 6),
            "p50_s": round(_percentile(values, 0.5), 6),
            "p90_s": round(_percentile(values, 0.9), 6),
            "max_s": round(values[-1], 6),
        })
    return out
