"""Dead letters on the dashboard: dispatches the WMS refused at every try (list, for any
reader) and sending one again (an operator, through the ledger's single writer: the use
case ``hub.app.deadletters.resend``). No payload is shown: it carries the receiver."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from hub.api.anomalies import NoteIn
from hub.api.auth import Operator, Reader
from hub.app import deadletters
from hub.app.deadletters import DeadLetter, DeadLetterNotFound


class DeadLetterOut(BaseModel):
    id: int
    destination: str
    key: str
    channel: str | None
    shop: str | None
    order_id: str | None
    attempts: int
    last_error: str
    dead_at: datetime
    created_at: datetime


class DeadLettersOut(BaseModel):
    total: int
    items: list[DeadLetterOut]


class ResentOut(BaseModel):
    id: int
    key: str
    by: str
    at: datetime


def letter_out(d: DeadLetter) -> DeadLetterOut:
    channel, shop, order_id = d.order or (None, None, None)
    return DeadLetterOut(id=d.id, destination=d.destination, key=d.key, channel=channel,
                         shop=shop, order_id=order_id, attempts=d.attempts,
                         last_error=d.last_error, dead_at=d.dead_at, created_at=d.created_at)


router = APIRouter(tags=["dead letters"])


@router.get("/api/dead-letters", response_model=DeadLettersOut, dependencies=[Reader])
def dead_letters(request: Request,
                 limit: int = Query(100, ge=1, le=1000)) -> DeadLettersOut:
    """Dispatches the WMS refused at every try, newest first."""
    items = request.app.state.ledger.dead_letters(limit)
    return DeadLettersOut(total=len(items), items=[letter_out(d) for d in items])


@router.post("/api/dead-letters/{message_id}/resend", response_model=ResentOut,
             responses={404: {"description": "no such dead letter"}})
def resend(request: Request, message_id: int, body: NoteIn,
           user: str = Operator) -> ResentOut:
    """Send a dead letter again (once the order or the WMS is fixed): it is due now with
    a fresh count of tries, and its order is ``released`` by you."""
    state = request.app.state
    at = state.clock.now()
    try:
        done = deadletters.resend(state.ledger, state.writer, message_id, by=user, at=at,
                                  note=body.note)
    except DeadLetterNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return ResentOut(id=done.id, key=done.key, by=user, at=at)
