"""Lanes and stages: how many orders stand where, the backlog of each lane, its recent
decision latency, and orders per minute for the dashboard's chart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from hub.api.auth import Reader
from hub.domain.decision import Stage

LANES = ("P0", "P1", "P2", "P3")
UNDECIDED = (Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED)
DONE = (Stage.SHIPPED, Stage.CANCELLED)
FINISHED = "done"  # the part of a lane's orders shipped or cancelled, not read by stage
STAGE_SCAN = 50_000  # orders per stage read to split a stage's count by lane


class LatencyOut(BaseModel):
    """Decision latency (received -> decided) over the last 15 minutes, seconds."""

    p50: float | None
    p90: float | None
    p99: float | None
    n: int


class LaneOut(BaseModel):
    lane: str
    orders: int  # every order decided into this lane
    backlog: int  # decided, not held, not yet shipped or cancelled
    held: int
    stages: dict[str, int]
    latency: LatencyOut


class LanesOut(BaseModel):
    at: datetime
    total: int
    undecided: int  # received, waiting for a decision
    backlog: int  # undecided + every lane's backlog
    stages: dict[str, int]
    lanes: list[LaneOut]


class MinuteOut(BaseModel):
    minute: datetime
    received: int
    shipped: int


class ThroughputOut(BaseModel):
    at: datetime
    buckets: list[MinuteOut]


def lane_stages(ledger: Any, counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Orders per lane and stage. The ledger's ``counts()`` has stages and lanes apart; the
    stages still in progress (small) are read to split them by lane, and the rest of a
    lane's count is shipped or cancelled."""
    if "lane_stages" in counts:
        return counts["lane_stages"]
    split: dict[str, dict[str, int]] = {lane: {} for lane in counts.get("lanes", {})}
    for stage, n in counts.get("stages", {}).items():
        if stage in DONE or stage in UNDECIDED or n == 0:
            continue
        for s in ledger.find_orders(stage=stage, limit=min(n, STAGE_SCAN)):
            if s.lane is not None:
                row = split.setdefault(s.lane, {})
                row[stage] = row.get(stage, 0) + 1
    for lane, total in counts.get("lanes", {}).items():
        row = split.setdefault(lane, {})
        rest = total - sum(row.values())
        if rest > 0:
            row[FINISHED] = rest
    return split


router = APIRouter(prefix="/api", tags=["lanes"], dependencies=[Reader])


@router.get("/lanes", response_model=LanesOut)
def lanes(request: Request) -> LanesOut:
    """Counts per stage, and per lane: orders, backlog, held, decision latency."""
    state = request.app.state
    state.feed.refresh()
    counts = state.ledger.counts()
    stages = counts.get("stages", {})
    split = lane_stages(state.ledger, counts)
    undecided = sum(stages.get(s, 0) for s in UNDECIDED)
    out = []
    for lane in sorted(set(LANES) | set(split)):
        row = split.get(lane, {})
        held = row.get(Stage.HELD, 0)
        backlog = sum(n for s, n in row.items() if s not in (*DONE, FINISHED, Stage.HELD))
        out.append(LaneOut(lane=lane, orders=counts.get("lanes", {}).get(lane, 0),
                           backlog=backlog, held=held, stages=row,
                           latency=LatencyOut(**state.feed.latency(lane))))
    return LanesOut(at=state.clock.now(), total=sum(stages.values()), undecided=undecided,
                    backlog=undecided + sum(lane.backlog for lane in out), stages=stages,
                    lanes=out)


@router.get("/throughput", response_model=ThroughputOut)
def throughput(request: Request, minutes: int = Query(30, ge=1, le=60)) -> ThroughputOut:
    """Orders received and shipped per minute over the last ``minutes`` minutes."""
    state = request.app.state
    state.feed.refresh()
    return ThroughputOut(at=state.clock.now(), buckets=[
        MinuteOut(minute=m, received=r, shipped=s) for m, r, s in state.feed.minutes(minutes)])
