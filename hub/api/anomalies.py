"""Open anomalies, and the HTTP face of what an operator does about them (release,
cancel, fix the address and re-check: the use cases in ``hub.app.operator``). Reads come
from the API's ledger handle; the actions write through ``app.state.writer``, the
ledger's single writer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from hub.api.auth import Operator, Reader
from hub.api.orders import ReceiverOut, receiver_out
from hub.app import operator
from hub.app.operator import ActionResult, AddressFix, NotInStage, OrderNotFound
from hub.app.records import OrderView
from hub.domain.decision import Reason, Stage
from hub.domain.outbox import CS_GROUP


class AnomalyGroupOut(BaseModel):
    reason: str
    group: str
    count: int
    oldest_at: datetime | None


class HeldOrderOut(BaseModel):
    channel: str
    shop: str
    order_id: str
    stage: str
    lane: str | None
    hold_reason: str | None
    reasons: list[str]
    groups: list[str]
    held_since: datetime
    receiver: ReceiverOut


class AnomaliesOut(BaseModel):
    total: int
    groups: list[AnomalyGroupOut]
    orders: list[HeldOrderOut]


class NoteIn(BaseModel):
    note: str = Field("", max_length=500)


class AddressIn(BaseModel):
    province: str = Field(min_length=1, max_length=40)
    city: str = Field(min_length=1, max_length=40)
    district: str = Field("", max_length=40)
    street: str = Field("", max_length=80)
    detail: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=32, description="blank keeps the phone")
    name: str | None = Field(None, max_length=40, description="blank keeps the name")
    note: str = Field("", max_length=500)


class ActionOut(BaseModel):
    channel: str
    shop: str
    order_id: str
    action: str  # release | cancel | address
    stage: str  # the order's stage afterwards
    by: str
    at: datetime
    released: bool
    reasons: list[str]  # what still holds it (address re-check)


def groups_of(s: Any) -> list[str]:
    """The groups an open anomaly is theirs: a hold's, or customer service's for an
    intercept that came too late."""
    own = [CS_GROUP] if s.stage == Stage.INTERCEPT_TOO_LATE else []
    return [*own, *([s.hold_group] if s.hold_group else [])]


def held_out(view: OrderView) -> HeldOrderOut:
    s, d = view.summary, view.decision
    anomalies = d.anomalies if d is not None else ()
    late = [Reason.INTERCEPT_TOO_LATE.value] if s.stage == Stage.INTERCEPT_TOO_LATE else []
    reasons = list(dict.fromkeys([*late, *([s.hold_reason] if s.hold_reason else []),
                                  *(a.code for a in anomalies)]))
    groups = list(dict.fromkeys([*groups_of(s), *(a.group for a in anomalies)]))
    return HeldOrderOut(channel=s.key[0], shop=s.key[1], order_id=s.key[2], stage=s.stage,
                        lane=s.lane, hold_reason=s.hold_reason, reasons=reasons, groups=groups,
                        held_since=s.stage_at, receiver=receiver_out(view.order))


router = APIRouter(tags=["anomalies"])


@router.get("/api/anomalies", response_model=AnomaliesOut, dependencies=[Reader])
def anomalies(request: Request, reason: str | None = None, group: str | None = None,
              limit: int = Query(100, ge=1, le=1000)) -> AnomaliesOut:
    """Open holds (reconcile mismatches, intercepts too late) by reason and group, with
    the orders, oldest first."""
    ledger = request.app.state.ledger
    rows = [r for r in ledger.open_anomalies()
            if (reason is None or r["reason"] == reason) and (group is None or r["group"] == group)]
    summaries = [*ledger.find_orders(stage=Stage.HELD, hold_reason=reason, limit=limit),
                 *ledger.find_orders(stage=Stage.RECONCILE_MISMATCH, limit=limit),
                 *ledger.find_orders(stage=Stage.INTERCEPT_TOO_LATE, limit=limit)]
    if reason is not None:
        summaries = [s for s in summaries if reason in (s.hold_reason, s.stage)]
    summaries = [s for s in summaries if group is None or group in groups_of(s)]
    summaries.sort(key=lambda s: s.stage_at)
    views = [v for v in map(ledger.get_order, [s.key for s in summaries[:limit]]) if v]
    return AnomaliesOut(total=sum(r["count"] for r in rows),
                        groups=[AnomalyGroupOut(**r) for r in rows],
                        orders=[held_out(v) for v in views])


ORDER = "/api/orders/{channel}/{shop}/{order_id}"
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such order"}, 409: {"description": "not in a stage for this"}}


def _act(request: Request, action: Callable[..., ActionResult], *args: Any,
         **kwargs: Any) -> ActionOut:
    """Run an operator use case against the API's reads and the ledger's writer, at now."""
    state = request.app.state
    try:
        done = action(state.ledger, state.writer, *args, at=state.clock.now(), **kwargs)
    except OrderNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except NotInStage as exc:
        raise HTTPException(409, str(exc)) from None
    channel, shop, order_id = done.key
    return ActionOut(channel=channel, shop=shop, order_id=order_id, action=done.action,
                     stage=done.stage, by=done.by, at=done.at, released=done.released,
                     reasons=done.reasons)


@router.post(ORDER + "/release", response_model=ActionOut, responses=ACTION_ERRORS)
def release(request: Request, channel: str, shop: str, order_id: str, body: NoteIn,
            user: str = Operator) -> ActionOut:
    """Release a held order: it goes to the WMS as decided, the note is kept."""
    return _act(request, operator.release, (channel, shop, order_id), by=user, note=body.note)


@router.post(ORDER + "/cancel", response_model=ActionOut, responses=ACTION_ERRORS)
def cancel(request: Request, channel: str, shop: str, order_id: str, body: NoteIn,
           user: str = Operator) -> ActionOut:
    """Cancel an order that has not reached the warehouse yet."""
    return _act(request, operator.cancel, (channel, shop, order_id), by=user, note=body.note)


@router.post(ORDER + "/address", response_model=ActionOut, responses=ACTION_ERRORS)
def edit_address(request: Request, channel: str, shop: str, order_id: str, body: AddressIn,
                 user: str = Operator) -> ActionOut:
    """Correct a held order's address and check it again with the rules in force."""
    fix = AddressFix(**body.model_dump(exclude={"note"}))
    return _act(request, operator.fix_address, (channel, shop, order_id), fix,
                request.app.state.rules.current(), by=user, note=body.note)
