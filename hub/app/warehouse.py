"""Recording a warehouse status: the WMS's reports (picked, packed, shipped with a
tracking number), whether posted to the hub or read from its status feed, become
stage events in the ledger.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 11, 11, tzinfo=UTC)
>>> [e.stage for e in stage_events([{"channel": "jd", "shop": "s", "order_id": "J1",
...                                   "stage": "packed"}], now)]
[<Stage.PACKED: 'packed'>]
>>> stage_events([{"channel": "jd", "shop": "s", "order_id": "J1", "stage": "lost"}],
...              now)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hub.app.warehouse.StatusRefused: status report 0 (jd:s:J1): unknown stage 'lost'; ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hub.app.ports import OrderStore, StageEvent, StageRecorder
from hub.domain.decision import Stage
from hub.errors import OrderHubError

WAREHOUSE_STAGES = frozenset({Stage.PICKED, Stage.PACKED, Stage.SHIPPED})
UNKNOWN_SHOWN = 5


class StatusRefused(OrderHubError):
    """A warehouse status report the hub cannot record; nothing of its batch was."""


def stage_events(reports: Iterable[Mapping[str, Any]], now: datetime) -> list[StageEvent]:
    """``{"channel", "shop", "order_id", "stage", "at"?, "tracking_no"?}`` reports ->
    stage events recorded at ``now``; the WMS's own time is kept in the detail."""
    events = []
    for index, report in enumerate(reports):
        try:
            key = (report["channel"], report["shop"], report["order_id"])
            stage = report["stage"]
        except (KeyError, TypeError) as exc:
            raise StatusRefused(f"status report {index}: missing {exc}") from None
        if stage not in WAREHOUSE_STAGES:
            raise StatusRefused(f"status report {index} ({':'.join(map(str, key))}): "
                                f"unknown stage {stage!r}; a warehouse reports picked, "
                                "packed or shipped")
        stage = Stage(stage)
        events.append(StageEvent(key=key, stage=stage, at=now,
                                 detail={"wms_at": str(report.get("at", ""))},
                                 tracking_no=report.get("tracking_no")))
    return events


async def record_status(reports: Iterable[Mapping[str, Any]], recorder: StageRecorder,
                        now: datetime, *, orders: OrderStore | None = None) -> int:
    """Record the WMS's status reports as stage events, all or none (a report the hub
    cannot read refuses the batch with :class:`StatusRefused`, and so does one for an
    order ``orders`` does not hold, when given); how many were handed to the ledger (a
    warehouse stage it already holds is stored once; one going backwards leaves the
    order's stage where it is)."""
    events = stage_events(reports, now)
    if not events:
        return 0
    if orders is not None:
        keys = list(dict.fromkeys(e.key for e in events))
        held = await orders.stored_versions(keys)
        unknown = [k for k in keys if k not in held]
        if unknown:
            shown = ", ".join(":".join(k) for k in unknown[:UNKNOWN_SHOWN])
            extra = len(unknown) - UNKNOWN_SHOWN
            more = f" and {extra} more" if extra > 0 else ""
            raise StatusRefused(f"unknown order(s) {shown}{more}: the hub never sent them")
    await recorder.record_stage(events)
    return len(events)
