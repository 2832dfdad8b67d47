"""The warehouse's packing-group crews: how many workers a group has and the shifts
(business clock, local time) in which it starts new work.

A shift is ``["HH:MM", "HH:MM"]``, start first; ``"24:00"`` may end a shift. A shift
whose end is before its start runs overnight: ``["22:00", "06:00"]`` is 22:00 to
midnight and midnight to 06:00, every day. A shift that starts and ends at the same
minute is refused (empty or all day? say ``["00:00", "24:00"]`` for all day).

>>> from datetime import datetime
>>> from hub.clock import SHANGHAI
>>> crew = PackingGroup(workers=2, shifts=[["08:00", "12:00"], ["22:00", "02:00"]])
>>> at = datetime(2026, 11, 11, 12, 30, tzinfo=SHANGHAI)
>>> crew.open_at(at), crew.next_open(at).isoformat()
(False, '2026-11-11T22:00:00+08:00')
>>> crew.open_at(datetime(2026, 11, 12, 1, 59, tzinfo=SHANGHAI))
True
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

DAY_MIN = 24 * 60


def minute_of(text: str) -> int:
    """``"HH:MM"`` as minutes after midnight (``"24:00"`` is 1440)."""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > DAY_MIN:
        raise ValueError(f"{text!r} is not a time of day (00:00..24:00)")
    return value


class PackingGroup(BaseModel):
    """One packing group's crew: ``workers`` (0: the group never starts work) and the
    shifts in which it starts new work (default: all day)."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(ge=0)
    shifts: list[tuple[str, str]] = [("00:00", "24:00")]

    @field_validator("shifts")
    @classmethod
    def _parsed(cls, shifts: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for n, (start, end) in enumerate(shifts):
            try:
                first, last = minute_of(start), minute_of(end)
            except ValueError as exc:
                raise ValueError(f"shifts[{n}]: {exc}") from None
            if first == last or (first == DAY_MIN and last == 0):
                raise ValueError(f"shifts[{n}]: starts and ends at {start}; say "
                                 f'["00:00", "24:00"] for all day')
        return shifts

    def spans(self) -> list[tuple[int, int]]:
        """The shifts as ``[start, end)`` minute spans within one day (overnight split)."""
        out = []
        for start, end in self.shifts:
            first, last = minute_of(start), minute_of(end)
            if first < last:
                out.append((first, last))
            else:
                out.extend(span for span in ((first, DAY_MIN), (0, last)) if span[0] < span[1])
        return out

    def open_at(self, at: datetime) -> bool:
        """Whether the group starts new work at ``at`` (its local time of day)."""
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        minute = (at - midnight).total_seconds() / 60
        return any(first <= minute < last for first, last in self.spans())

    def next_open(self, at: datetime) -> datetime | None:
        """The first moment after ``at`` at which a shift begins (None: no shifts)."""
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        starts = [midnight + timedelta(days=day, minutes=first)
                  for day in (0, 1) for first, _ in self.spans()]
        later = [moment for moment in starts if moment > at]
        return min(later) if later else None
