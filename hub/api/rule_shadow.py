"""The shadow run over HTTP (``hub.app.shadow`` through the rule console): a draft
decides every live batch beside the rules in force, acting on nothing.

    POST   /api/rules/shadow {draft}       start (or replace) it
    GET    /api/rules/shadow?minutes=N     what it would have changed, with examples
    DELETE /api/rules/shadow               stop it (its figures stay readable)
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.auth import Reader, RulesAuthor
from hub.api.rule_drafts import DRAFT_MAX
from hub.api.rules import REFUSED, ChangedOut, ExampleOut, admin, example_out, refused
from hub.app.drafts import NoSuchDraft
from hub.app.rules import RuleRefused
from hub.app.shadow import WINDOW_MINUTES, ShadowReport


class ShadowIn(BaseModel):
    draft: int = Field(ge=1, le=DRAFT_MAX)


class ShadowStartOut(BaseModel):
    draft: int
    version: int
    since: datetime


class ShadowOut(BaseModel):
    running: bool
    draft: int | None
    version: int | None
    since: datetime | None
    minutes: int
    batches: int
    orders: int
    changed: ChangedOut
    examples: list[ExampleOut]
    errors: int = Field(description="batches the shadow run failed on (the live path went on)")


router = APIRouter(prefix="/api/rules/shadow", tags=["rules"])


def shadow_out(r: ShadowReport) -> ShadowOut:
    return ShadowOut(running=r.running, draft=r.draft, version=r.version, since=r.since,
                     minutes=r.minutes, batches=r.batches, orders=r.orders,
                     changed=ChangedOut(**r.changed),
                     examples=[example_out(e) for e in r.examples], errors=r.errors)


@router.post("", response_model=ShadowStartOut, status_code=201,
             responses={**REFUSED, 404: {"description": "no such draft"}})
def start(request: Request, body: ShadowIn,
          user: str = RulesAuthor) -> ShadowStartOut | JSONResponse:
    """Run a draft in shadow beside the rules in force (replacing a shadow run going on)."""
    try:
        version, since = admin(request).start_shadow(body.draft)
    except NoSuchDraft as exc:
        raise HTTPException(404, str(exc)) from None
    except RuleRefused as exc:
        return refused(exc)
    return ShadowStartOut(draft=body.draft, version=version, since=since)


@router.get("", response_model=ShadowOut, dependencies=[Reader])
def report(request: Request,
           minutes: int = Query(15, ge=1, le=WINDOW_MINUTES)) -> ShadowOut:
    """Over the last ``minutes``: batches and orders seen, how many the draft would have
    put in another lane, packing group or hold, and examples (newest first)."""
    return shadow_out(admin(request).shadow_report(minutes))


@router.delete("", response_model=ShadowOut, dependencies=[RulesAuthor])
def stop(request: Request,
         minutes: int = Query(15, ge=1, le=WINDOW_MINUTES)) -> ShadowOut:
    """Stop the shadow run; answers its last report."""
    rules = admin(request)
    rules.stop_shadow()
    return shadow_out(rules.shadow_report(minutes))
