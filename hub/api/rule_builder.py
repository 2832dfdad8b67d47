"""The block builder's HTTP side (``hub.app.builder``): the schema of what a block may
hold, a rule file opened as blocks, and blocks saved as a rule file with its problems
(each on its block) and conflict warnings.

    GET  /api/rules/builder/schema   fields, operators, closed values, suggestions
    POST /api/rules/builder/open     {text}      -> {document, next_version}
    POST /api/rules/builder/save     {document}  -> {text, problems, warnings}
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.auth import Reader, RulesAuthor
from hub.api.rules import (
    REFUSED,
    ProblemOut,
    RefusedOut,
    RuleTextIn,
    WarningOut,
    admin,
    refused,
    warning_out,
)
from hub.app import builder
from hub.app.rules import RuleRefused
from hub.domain.rules.blocks import BlockError


class FieldOut(BaseModel):
    name: str
    kind: str = Field(description="text | number | tags")
    operators: list[str]
    values: list[str] | None = Field(description="the only values accepted (None: open)")
    suggestions: list[str] = Field(description="values seen in recent orders")


class ActionOut(BaseModel):
    name: str
    values: list[str] | None
    suggestions: list[str]


class SchemaOut(BaseModel):
    fields: list[FieldOut]
    actions: list[ActionOut]
    combinators: list[str]
    hit_policies: list[str]


class OpenOut(BaseModel):
    document: dict[str, Any] = Field(description="the block document (docs/rules.md)")
    next_version: int = Field(description="the version number a new publish needs")


class DocumentIn(BaseModel):
    document: dict[str, Any]


class PlacedOut(ProblemOut):
    rule_id: str | None
    block: list[int] | None


class SaveOut(BaseModel):
    text: str
    problems: list[PlacedOut]
    warnings: list[WarningOut]


router = APIRouter(prefix="/api/rules/builder", tags=["rules"])


@router.get("/schema", response_model=SchemaOut, dependencies=[Reader])
def schema(request: Request) -> SchemaOut:
    """What a block may hold: every order fact with its operators and closed values (as
    the check accepts them), suggestions from recent orders, the actions."""
    return SchemaOut(**builder.schema(admin(request).reads))


@router.post("/open", response_model=OpenOut, responses=REFUSED, dependencies=[RulesAuthor])
def open_text(request: Request, body: RuleTextIn) -> OpenOut | JSONResponse:
    """A rule file the check accepts, as blocks (422 with its problems otherwise)."""
    try:
        document, next_version = builder.open_text(admin(request).reads, body.text)
    except RuleRefused as exc:
        return refused(exc)
    return OpenOut(document=document, next_version=next_version)


@router.post("/save", response_model=SaveOut, responses=REFUSED, dependencies=[RulesAuthor])
def save(request: Request, body: DocumentIn) -> SaveOut | JSONResponse:
    """Blocks as a rule file, checked as publishing would check it: problems on their
    blocks, and the conflict warnings. 422 only for a document that is not one."""
    try:
        saved = builder.save_document(admin(request).reads, body.document)
    except BlockError as exc:
        out = RefusedOut(detail=f"not a block document: {exc}", problems=[
            ProblemOut(file="<document>", line=0, reason=str(exc))])
        return JSONResponse(out.model_dump(), status_code=422)
    return SaveOut(text=saved.text, warnings=[warning_out(w) for w in saved.warnings],
                   problems=[PlacedOut(file=p.problem.file, line=p.problem.line,
                                       reason=p.problem.reason, rule_id=p.rule_id,
                                       block=None if p.block is None else [p.block])
                             for p in saved.problems])
