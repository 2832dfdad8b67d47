"""Open anomalies and what an operator does about them: release (with a note), cancel,
or edit the address and re-check. Each action is a stage event naming who did it.

Editing the address stores a new version of the order (its ``modified_at`` moved to now)
and decides it again with the rules in force: clean -> released and sent to the WMS;
otherwise it stays held with the new reasons.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from hub.api.auth import Reader, Writer
from hub.api.orders import ReceiverOut, receiver_out
from hub.domain.decision import Decision
from hub.domain.order import Order, Receiver
from hub.ledger import OrderView, OutboxMessage, StageEvent

BEFORE_WAREHOUSE = ("received", "validated", "scored", "routed", "held", "released",
                    "auto_remedied", "reconcile_mismatch")
RECENT_FOR_DUPLICATES = 2000


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


def held_out(view: OrderView) -> HeldOrderOut:
    s, d = view.summary, view.decision
    anomalies = d.anomalies if d is not None else ()
    reasons = list(dict.fromkeys([*([s.hold_reason] if s.hold_reason else []),
                                  *(a.code for a in anomalies)]))
    groups = list(dict.fromkeys([*([s.hold_group] if s.hold_group else []),
                                 *(a.group for a in anomalies)]))
    return HeldOrderOut(channel=s.key[0], shop=s.key[1], order_id=s.key[2], stage=s.stage,
                        lane=s.lane, hold_reason=s.hold_reason, reasons=reasons, groups=groups,
                        held_since=s.stage_at, receiver=receiver_out(view.order))


router = APIRouter(tags=["anomalies"])


@router.get("/api/anomalies", response_model=AnomaliesOut, dependencies=[Reader])
def anomalies(request: Request, reason: str | None = None, group: str | None = None,
              limit: int = Query(100, ge=1, le=1000)) -> AnomaliesOut:
    """Open holds (and reconcile mismatches) by reason and group, with the held orders,
    oldest first."""
    ledger = request.app.state.ledger
    rows = [r for r in ledger.open_anomalies()
            if (reason is None or r["reason"] == reason) and (group is None or r["group"] == group)]
    summaries = [*ledger.find_orders(stage="held", hold_reason=reason, limit=limit),
                 *ledger.find_orders(stage="reconcile_mismatch", limit=limit)]
    summaries = [s for s in summaries if group is None or s.hold_group == group]
    summaries.sort(key=lambda s: s.stage_at)
    views = [v for v in map(ledger.get_order, [s.key for s in summaries[:limit]]) if v]
    return AnomaliesOut(total=sum(r["count"] for r in rows),
                        groups=[AnomalyGroupOut(**r) for r in rows],
                        orders=[held_out(v) for v in views])


def _view(request: Request, channel: str, shop: str, order_id: str) -> OrderView:
    view = request.app.state.ledger.get_order((channel, shop, order_id))
    if view is None:
        raise HTTPException(404, f"no order {channel}/{shop}/{order_id}")
    return view


def _dispatch(order: Order, decision: Decision | None) -> list[OutboxMessage]:
    """The WMS row a released order is owed (the same idempotency key the router uses)."""
    from hub.domain.outbox import WMS, dispatch_payload

    if decision is None or order.status.value != "paid":
        return []
    ident = f"{order.channel.value}:{order.shop}:{order.order_id}"
    return [OutboxMessage(destination=WMS, key=f"wms:{ident}", order_key=order.key,
                          payload=dispatch_payload(order, decision))]


def _done(request: Request, view: OrderView, action: str, by: str, at: datetime,
          released: bool, reasons: list[str]) -> ActionOut:
    after = request.app.state.ledger.get_order(view.order.key)
    return ActionOut(channel=view.order.channel.value, shop=view.order.shop,
                     order_id=view.order.order_id, action=action,
                     stage=after.stage if after else view.stage, by=by, at=at,
                     released=released, reasons=reasons)


ORDER = "/api/orders/{channel}/{shop}/{order_id}"
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such order"}, 409: {"description": "not in a stage for this"}}


@router.post(ORDER + "/release", response_model=ActionOut, responses=ACTION_ERRORS)
def release(request: Request, channel: str, shop: str, order_id: str, body: NoteIn,
            user: str = Writer) -> ActionOut:
    """Release a held order: it goes to the WMS as decided, the note is kept."""
    state = request.app.state
    view = _view(request, channel, shop, order_id)
    if view.stage not in ("held", "reconcile_mismatch"):
        raise HTTPException(409, f"order {order_id} is {view.stage}, not held")
    at = state.clock.now()
    event = StageEvent(key=view.order.key, stage="released", at=at,
                       detail={"by": user, "note": body.note, "action": "release"})
    state.ledger.record_stage([event], _dispatch(view.order, view.decision))
    return _done(request, view, "release", user, at, True, [])


@router.post(ORDER + "/cancel", response_model=ActionOut, responses=ACTION_ERRORS)
def cancel(request: Request, channel: str, shop: str, order_id: str, body: NoteIn,
           user: str = Writer) -> ActionOut:
    """Cancel an order that has not reached the warehouse yet."""
    state = request.app.state
    view = _view(request, channel, shop, order_id)
    if view.stage not in BEFORE_WAREHOUSE:
        raise HTTPException(409, f"order {order_id} is {view.stage}: the warehouse has it; "
                                 "cancel it in the WMS")
    at = state.clock.now()
    state.ledger.record_stage([StageEvent(key=view.order.key, stage="cancelled", at=at,
                                          detail={"by": user, "note": body.note,
                                                  "action": "cancel"})])
    return _done(request, view, "cancel", user, at, False, [])


def edited(order: Order, body: AddressIn, at: datetime) -> Order:
    """A new version of ``order`` with the new address, modified at ``at`` (or just after
    the version it replaces)."""
    old = order.receiver
    receiver = Receiver(name=body.name or old.name, phone=body.phone or old.phone,
                        province=body.province, city=body.city, district=body.district,
                        street=body.street, detail=body.detail)
    modified = max(at, order.modified_at + timedelta(milliseconds=1))
    return Order.model_validate({**order.model_dump(), "receiver": receiver.model_dump(),
                                 "modified_at": modified})


@router.post(ORDER + "/address", response_model=ActionOut, responses=ACTION_ERRORS)
def edit_address(request: Request, channel: str, shop: str, order_id: str, body: AddressIn,
                 user: str = Writer) -> ActionOut:
    """Correct a held order's address and check it again with the rules in force."""
    from hub.domain.outbox import outbox_for
    from hub.domain.routing import decide

    state = request.app.state
    ledger = state.ledger
    view = _view(request, channel, shop, order_id)
    if view.stage not in ("held", "reconcile_mismatch"):
        raise HTTPException(409, f"order {order_id} is {view.stage}, not held")
    at = state.clock.now()
    order = edited(view.order, body, at)
    recent = [o for o in ledger.recent_orders(RECENT_FOR_DUPLICATES) if o.key != order.key]
    decision = decide([order], {}, recent, state.rules.current())[0]
    ledger.ingest([order], at=at)
    ledger.commit_decisions([decision], outbox_for([order], [decision]), at=at)
    reasons = list(dict.fromkeys([decision.hold_reason, *(a.code for a in decision.anomalies)])
                   ) if decision.hold_reason else []
    stage = "held" if decision.held else "released"
    ledger.record_stage([StageEvent(
        key=order.key, stage=stage, at=at,
        detail={"by": user, "note": body.note, "action": "edit_address", "reasons": reasons})])
    return _done(request, view, "address", user, at, not decision.held, reasons)
