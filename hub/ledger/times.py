"""How the ledger stores times: seconds since the epoch (event and stage times) and
exact integer microseconds (an order's version), and back to aware datetimes.

>>> from datetime import datetime, timedelta
>>> moment = datetime(2026, 11, 11, 0, 0, 0, 1, tzinfo=SHANGHAI)
>>> micros(moment), from_micros(micros(moment)) == moment
(1794326400000001, True)
>>> from_epoch(epoch(moment)) == moment
True
"""

from __future__ import annotations

from datetime import UTC, datetime

from hub.app.records import micros as micros  # the ports' unit of an order version
from hub.domain.order import SHANGHAI

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch(moment: datetime, what: str = "time") -> float:
    """Seconds since the epoch of an aware datetime (the ledger stores times this way)."""
    if moment.tzinfo is None:
        from hub.ledger.base import LedgerError

        raise LedgerError(f"{what}: {moment.isoformat()} has no time zone; pass an aware datetime")
    return moment.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, SHANGHAI)


def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    seconds, us = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, SHANGHAI).replace(microsecond=us)
