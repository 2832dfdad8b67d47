"""Two-person publishing over HTTP (``hub.app.drafts`` through ``app.state.rules``): an
author (role ``rules_author``) drafts a rule file, an approver (role ``rules_approver``)
who is not the author publishes it; the readable diff of each version.

    POST /api/rules/drafts                  {text, comment}  -> 201 the draft
    GET  /api/rules/drafts                  the drafts, newest first
    GET  /api/rules/drafts/{draft}          one draft with its text
    POST /api/rules/drafts/{draft}/publish  -> 201; 403 when the approver drafted it
    GET  /api/rules/{version}/diff          unified diff against the version before
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.auth import Reader, RulesApprover, RulesAuthor
from hub.api.rules import REFUSED, VERSION_MAX, RuleTextIn, admin, refused
from hub.app.drafts import MAX_COMMENT, DraftPublished, NoSuchDraft, SamePerson
from hub.app.records import LedgerError
from hub.app.rules import RuleRefused

DRAFT_MAX = 2**63 - 1


class DraftIn(RuleTextIn):
    comment: str = Field("", max_length=MAX_COMMENT, description="why, for the approver")


class DraftOut(BaseModel):
    draft: int
    author: str
    comment: str
    created_at: datetime
    status: str = Field(description="open | published")
    published_version: int | None


class DraftTextOut(DraftOut):
    text: str


class DraftsOut(BaseModel):
    drafts: list[DraftOut]


class DraftPublishOut(BaseModel):
    version: int
    previous: int | None
    by: str = Field(description="the approver")
    author: str


class DiffOut(BaseModel):
    version: int
    against: int | None = Field(description="the version before (None: the first)")
    diff: str = Field(description="unified diff, empty when the texts are equal")


def draft_out(row: Any) -> DraftOut:
    published = row.published_version
    return DraftOut(draft=row.id, author=row.author, comment=row.comment,
                    created_at=row.created_at, status="open" if published is None else "published",
                    published_version=published)


router = APIRouter(prefix="/api/rules", tags=["rules"])
NOT_FOUND = {404: {"description": "no such draft"}}


@router.post("/drafts", response_model=DraftTextOut, status_code=201, responses=REFUSED)
def create_draft(request: Request, body: DraftIn,
                 user: str = RulesAuthor) -> DraftTextOut | JSONResponse:
    """Keep a rule file as a draft for an approver; refused (422) when it could not be
    published as it is (every problem with its line)."""
    try:
        row = admin(request).create_draft(body.text, user, body.comment)
    except RuleRefused as exc:
        return refused(exc)
    return DraftTextOut(**draft_out(row).model_dump(), text=row.text)


@router.get("/drafts", response_model=DraftsOut, dependencies=[Reader])
def list_drafts(request: Request) -> DraftsOut:
    return DraftsOut(drafts=[draft_out(row) for row in admin(request).drafts()])


@router.get("/drafts/{draft}", response_model=DraftTextOut, dependencies=[Reader],
            responses=NOT_FOUND)
def get_draft(request: Request, draft: int = Path(ge=1, le=DRAFT_MAX)) -> DraftTextOut:
    row = admin(request).draft(draft)
    if row is None:
        raise HTTPException(404, f"no rule draft {draft}")
    return DraftTextOut(**draft_out(row).model_dump(), text=row.text)


@router.post("/drafts/{draft}/publish", response_model=DraftPublishOut, status_code=201,
             responses={**REFUSED, **NOT_FOUND,
                        409: {"description": "the draft was published already"}})
def publish_draft(request: Request, draft: int = Path(ge=1, le=DRAFT_MAX),
                  user: str = RulesApprover) -> DraftPublishOut | JSONResponse:
    """Publish a draft and put it in force; the approver must not be its author (403)."""
    try:
        done = admin(request).publish_draft(draft, user)
    except NoSuchDraft as exc:
        raise HTTPException(404, str(exc)) from None
    except SamePerson as exc:
        raise HTTPException(403, str(exc)) from None
    except (DraftPublished, LedgerError) as exc:  # the ledger's: published meanwhile
        raise HTTPException(409, str(exc)) from None
    except RuleRefused as exc:
        return refused(exc)
    return DraftPublishOut(version=done.version, previous=done.previous, by=done.by,
                           author=done.author)


@router.get("/{version}/diff", response_model=DiffOut, dependencies=[Reader],
            responses={404: {"description": "no such version"}})
def version_diff(request: Request, version: int = Path(ge=1, le=VERSION_MAX)) -> DiffOut:
    """What ``version`` changed: a unified diff against the version before it."""
    found = admin(request).diff(version)
    if found is None:
        raise HTTPException(404, f"no rule-set version {version}")
    against, diff = found
    return DiffOut(version=version, against=against, diff=diff)
