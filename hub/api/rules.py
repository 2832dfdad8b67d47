"""The rule console's HTTP handlers: versions, check, dry-run, publish, roll back (the
use cases in ``hub.app.rules``, through ``app.state.rules``, a ``RuleConsole``).

A refused rule file answers 422 with every problem as ``{file, line, reason}``; the
rules in force stay as they were. Rolling back needs an approver's token; publishing
goes through drafts (``hub/api/rule_drafts.py``: an author drafts, another person
approves), and ``POST /api/rules/publish`` answers 410.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.auth import Reader, RulesApprover, RulesAuthor
from hub.app.builder import warnings
from hub.app.rules import (
    MAX_DRY_RUN,
    UPLOAD,
    DryRunExample,
    NoSuchVersion,
    Outcome,
    RuleConsole,
    RuleRefused,
    RuleVersion,
    parse,
)
from hub.domain.rules.conflicts import Warning_, conflicts


class ProblemOut(BaseModel):
    file: str
    line: int
    reason: str


class RefusedOut(BaseModel):
    """A refused rule file: nothing was changed."""

    detail: str
    problems: list[ProblemOut]


class VersionOut(BaseModel):
    version: int
    name: str
    published_by: str = Field(description="who put it in force: the approver")
    published_at: datetime | None
    in_force: bool
    author: str = Field(description="who drafted it (the approver when it had no draft)")
    approver: str
    drafted_at: datetime | None
    draft: int | None


class VersionsOut(BaseModel):
    current: int | None
    versions: list[VersionOut]


class VersionTextOut(VersionOut):
    text: str


class RuleTextIn(BaseModel):
    text: str = Field(min_length=1, max_length=1_000_000, description="the rule file (YAML)")


class WarningOut(BaseModel):
    """A rule the check accepts but that can never fire, or that overlaps another."""

    kind: str = Field(description="never | shadowed | overlap")
    rule_id: str
    line: int
    block: list[int] = Field(description="the rule's position in the block document")
    other_rule_id: str | None
    other_line: int | None
    reason: str


class CheckOut(BaseModel):
    ok: bool
    version: int | None
    name: str | None
    rules: int | None
    problems: list[ProblemOut]
    warnings: list[WarningOut]


class DryRunIn(RuleTextIn):
    n: int = Field(500, ge=1, le=MAX_DRY_RUN, description="how many recent orders")
    examples: int = Field(10, ge=0, le=100)


class OutcomeOut(BaseModel):
    lane: str
    packing_group: str
    hold_reason: str | None


class ExampleOut(BaseModel):
    channel: str
    shop: str
    order_id: str
    before: OutcomeOut
    after: OutcomeOut
    rules_fired: list[str]


class ChangedOut(BaseModel):
    lane: int
    packing_group: int
    hold: int
    any: int


class DryRunOut(BaseModel):
    version: int
    baseline_version: int
    orders: int
    changed: ChangedOut
    examples: list[ExampleOut]
    warnings: list[WarningOut]


VERSION_MAX = 2**63 - 1  # a ledger keeps versions as 64-bit integers


class RollbackIn(BaseModel):
    version: int = Field(ge=1, le=VERSION_MAX)


class PublishOut(BaseModel):
    version: int
    previous: int | None
    by: str


REFUSED = {422: {"model": RefusedOut, "description": "the rule file was refused"}}


def refused(exc: RuleRefused) -> JSONResponse:
    problems = [ProblemOut(file=p.file, line=p.line, reason=p.reason) for p in exc.problems]
    body = RefusedOut(detail=f"rule file refused: {len(problems)} problem(s); "
                             "the rules in force are unchanged", problems=problems)
    return JSONResponse(body.model_dump(), status_code=422)


def version_out(v: RuleVersion) -> VersionOut:
    return VersionOut(version=v.version, name=v.name, published_by=v.published_by,
                      published_at=v.published_at, in_force=v.in_force,
                      author=v.author or v.published_by, approver=v.published_by,
                      drafted_at=v.drafted_at, draft=v.draft)


def outcome_out(o: Outcome) -> OutcomeOut:
    return OutcomeOut(lane=o.lane, packing_group=o.packing_group, hold_reason=o.hold_reason)


def warning_out(w: Warning_) -> WarningOut:
    return WarningOut(kind=w.kind, rule_id=w.rule_id, line=w.line, block=[w.block],
                      other_rule_id=w.other_rule_id, other_line=w.other_line, reason=w.reason)


def example_out(e: DryRunExample) -> ExampleOut:
    return ExampleOut(channel=e.channel, shop=e.shop, order_id=e.order_id,
                      before=outcome_out(e.before), after=outcome_out(e.after),
                      rules_fired=list(e.rules_fired))


def admin(request: Request) -> RuleConsole:
    return request.app.state.rules


router = APIRouter(prefix="/api/rules", tags=["rules"])


@router.get("", response_model=VersionsOut, dependencies=[Reader])
def versions(request: Request) -> VersionsOut:
    """Every published version, newest first; ``current`` is the one in force."""
    rows = admin(request).versions()
    current = next((v.version for v in rows if v.in_force), None)
    return VersionsOut(current=current, versions=[version_out(v) for v in rows])


@router.get("/{version}", response_model=VersionTextOut, dependencies=[Reader],
            responses={404: {"description": "no such version"}})
def version_text(request: Request,
                 version: int = Path(ge=1, le=VERSION_MAX)) -> VersionTextOut:
    row = admin(request).get(version)
    if row is None:
        raise HTTPException(404, f"no rule-set version {version}")
    return VersionTextOut(**version_out(row).model_dump(), text=row.text)


@router.post("/check", response_model=CheckOut, dependencies=[RulesAuthor])
def check(request: Request, body: RuleTextIn) -> CheckOut:
    """Upload a rule file and check it (nothing changes): every problem with its line."""
    rules = admin(request)
    problems = rules.check(body.text)
    out = CheckOut(ok=not problems, version=None, name=None, rules=None,
                   problems=[ProblemOut(file=p.file, line=p.line, reason=p.reason)
                             for p in problems], warnings=[])
    if not problems:
        ruleset = parse(body.text, UPLOAD)
        out.version, out.name, out.rules = ruleset.version, ruleset.name, len(ruleset.rules)
        out.warnings = [warning_out(w) for w in conflicts(ruleset)]
    return out


@router.post("/dry-run", response_model=DryRunOut, responses=REFUSED, dependencies=[RulesAuthor])
def dry_run(request: Request, body: DryRunIn) -> DryRunOut | JSONResponse:
    """Decide the last N orders under the running rules and under this file, on the same
    inputs (no stock snapshot), and count the orders whose lane, packing group or hold
    would change."""
    try:
        result = admin(request).dry_run(body.text, body.n, body.examples)
    except RuleRefused as exc:
        return refused(exc)
    return DryRunOut(
        version=result.version, baseline_version=result.baseline_version, orders=result.orders,
        changed=ChangedOut(**result.changed),
        examples=[example_out(e) for e in result.examples],
        warnings=[warning_out(w) for w in warnings(body.text)])


@router.post("/publish", include_in_schema=False)
def publish() -> JSONResponse:
    """Gone: publishing needs two people (an author's draft, another person's approval)."""
    return JSONResponse({"detail": "publishing needs two people: the author drafts "
                         "(POST /api/rules/drafts), an approver who is not the author publishes "
                         "(POST /api/rules/drafts/{draft}/publish); nothing was published"},
                        status_code=410)


@router.post("/rollback", response_model=PublishOut, status_code=201,
             responses={**REFUSED, 404: {"description": "no such version"}})
def rollback(request: Request, body: RollbackIn,
             user: str = RulesApprover) -> PublishOut | JSONResponse:
    """Put an earlier version's rules back in force, published as the next version."""
    rules = admin(request)
    previous = rules.current().version
    try:
        version = rules.rollback(body.version, user)
    except NoSuchVersion as exc:
        raise HTTPException(404, str(exc)) from None
    except RuleRefused as exc:
        return refused(exc)
    return PublishOut(version=version, previous=previous, by=user)
