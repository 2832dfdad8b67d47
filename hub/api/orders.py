"""Order look-up: by channel order id, tracking number or the last four digits of the
buyer's phone. Answers the order (receiver masked), its stage, its timeline, the
decision with its explanation, the tracking number and the expected completion time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from hub.api.auth import Reader
from hub.api.eta import Steps, estimate, typical_steps
from hub.domain.decision import Decision
from hub.domain.order import Order, mask_text

ETA_WINDOW = timedelta(hours=1)
PHONE_TAIL = re.compile(r"^\d{4}$")
PHONE_SCAN = 5000  # how many recent orders a phone-tail search reads


class ReceiverOut(BaseModel):
    """The receiver as an operator may see it: phone keeps its last four digits."""

    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    detail: str


class ItemOut(BaseModel):
    sku: str
    quantity: int
    price_fen: int


class AmountsOut(BaseModel):
    total_fen: int
    discount_fen: int
    freight_fen: int
    paid_fen: int


class OrderOut(BaseModel):
    status: str
    order_type: str
    source: str
    delivery: str
    created_at: datetime
    paid_at: datetime | None
    modified_at: datetime
    buyer: str
    buyer_tier: str
    receiver: ReceiverOut
    items: list[ItemOut]
    amounts: AmountsOut


class AnomalyOut(BaseModel):
    code: str
    severity: str
    group: str
    detail: str


class DecisionOut(BaseModel):
    """Why the order went where it went."""

    version: str
    lane: str
    score: float
    breakdown: dict[str, float]
    packing_group: str
    hold_reason: str | None
    anomalies: list[AnomalyOut]
    remedies: list[str]
    delivery: str
    alert_groups: list[str]
    rules_fired: list[str]
    ruleset_version: int


class EventOut(BaseModel):
    stage: str
    at: datetime
    by: str | None = None
    note: str | None = None
    reasons: list[str] = []
    tracking_no: str | None = None
    ruleset_version: int | None = None


class EtaOut(BaseModel):
    state: str  # estimated | done | held | cancelled | unknown
    expected_at: datetime | None
    remaining_s: float | None
    basis: str


class OrderDetail(BaseModel):
    channel: str
    shop: str
    order_id: str
    stage: str
    stage_at: datetime | None
    lane: str | None
    tracking_no: str | None
    order: OrderOut
    decision: DecisionOut | None
    timeline: list[EventOut]
    eta: EtaOut


class SearchOut(BaseModel):
    query: str
    matched_by: str | None  # order_id | tracking_no | phone_tail
    results: list[OrderDetail]


def mask_name(name: str) -> str:
    """``张三`` -> ``张*``: the family name only."""
    return name[:1] + "*" * max(len(name) - 1, 0)


def receiver_out(order: Order) -> ReceiverOut:
    r = order.receiver
    masked = r.masked()
    return ReceiverOut(name=mask_name(r.name), phone=masked["phone"], province=r.province,
                       city=r.city, district=r.district, street=masked["street"],
                       detail=masked["detail"])


def order_out(order: Order) -> OrderOut:
    return OrderOut(
        status=order.status.value, order_type=order.order_type.value, source=order.source,
        delivery=order.delivery.value, created_at=order.created_at, paid_at=order.paid_at,
        modified_at=order.modified_at, buyer=mask_text(order.buyer.id), buyer_tier=order.buyer.tier,
        receiver=receiver_out(order),
        items=[ItemOut(sku=i.sku, quantity=i.quantity, price_fen=i.price_fen) for i in order.items],
        amounts=AmountsOut(**order.amounts.model_dump()))


def decision_out(decision: Decision) -> DecisionOut:
    data = decision.to_dict()
    data.pop("extra", None)
    for name in ("channel", "shop", "order_id"):
        data.pop(name)
    return DecisionOut(**data)


def event_out(event: Any) -> EventOut:
    detail = event.detail if isinstance(event.detail, dict) else {}
    reasons = (detail.get("reasons") or detail.get("anomalies")
               or ([detail["reason"]] if detail.get("reason") else []))
    return EventOut(stage=event.stage, at=event.at, by=detail.get("by"),
                    note=detail.get("note"), reasons=[str(r) for r in reasons],
                    tracking_no=event.tracking_no, ruleset_version=event.ruleset_version)


def eta_steps(request: Request) -> Steps:
    """Median stage steps per lane over the last hour, read again every few seconds."""
    state = request.app.state
    now = state.clock.now()
    cached = getattr(state, "eta_cache", None)
    if cached is None or abs((now - cached[0]).total_seconds()) > 5:
        cached = (now, typical_steps(state.ledger.stage_durations(now - ETA_WINDOW)))
        state.eta_cache = cached
    return cached[1]


def detail(view: Any, steps: Steps, now: datetime) -> OrderDetail:
    order, decision, summary = view.order, view.decision, view.summary
    lane = summary.lane or (decision.lane if decision is not None else None)
    eta = estimate(summary.stage, summary.stage_at, lane, steps, now)
    return OrderDetail(
        channel=order.channel.value, shop=order.shop, order_id=order.order_id,
        stage=summary.stage, stage_at=summary.stage_at, lane=lane,
        tracking_no=summary.tracking_no,
        order=order_out(order), decision=decision_out(decision) if decision else None,
        timeline=[event_out(e) for e in view.timeline],
        eta=EtaOut(state=eta.state, expected_at=eta.expected_at, remaining_s=eta.remaining_s,
                   basis=eta.basis))


def phone_tail_matches(ledger: Any, tail: str, limit: int) -> list[tuple[str, str, str]]:
    """Keys of recent orders whose receiver phone ends with ``tail`` (newest first)."""
    keys = []
    for order in ledger.recent_orders(PHONE_SCAN):
        phone = order.receiver.phone.replace(" ", "").replace("-", "")
        if phone.endswith(tail):
            keys.append(order.key)
            if len(keys) >= limit:
                break
    return keys


def search_keys(ledger: Any, q: str, limit: int) -> tuple[str | None, list[Any]]:
    """Order id first, then tracking number, then (four digits) the phone's last four."""
    for field in ("order_id", "tracking_no"):
        found = ledger.find_orders(**{field: q}, limit=limit)
        if found:
            return field, [s.key for s in found]
    if PHONE_TAIL.match(q):
        keys = phone_tail_matches(ledger, q, limit)
        if keys:
            return "phone_tail", keys
    return None, []


router = APIRouter(prefix="/api/orders", tags=["orders"], dependencies=[Reader])


@router.get("", response_model=SearchOut)
def search(request: Request, q: str = Query(min_length=1, max_length=64,
                                           description="order id, tracking no or phone last 4"),
           limit: int = Query(10, ge=1, le=50)) -> SearchOut:
    """Find orders by channel order id, tracking number, or the buyer phone's last 4 digits."""
    state = request.app.state
    q = q.strip()
    matched_by, keys = search_keys(state.ledger, q, limit)
    steps, now = eta_steps(request), state.clock.now()
    views = [v for v in map(state.ledger.get_order, keys) if v is not None]
    return SearchOut(query=q, matched_by=matched_by,
                     results=[detail(v, steps, now) for v in views])


@router.get("/{channel}/{shop}/{order_id}", response_model=OrderDetail,
            responses={404: {"description": "no such order"}})
def get_order(request: Request, channel: str, shop: str, order_id: str) -> OrderDetail:
    """One order: stage, timeline, decision and explanation, tracking number, ETA."""
    state = request.app.state
    view = state.ledger.get_order((channel, shop, order_id))
    if view is None:
        raise HTTPException(404, f"no order {channel}/{shop}/{order_id}")
    return detail(view, eta_steps(request), state.clock.now())
