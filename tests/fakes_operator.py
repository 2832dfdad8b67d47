"""In-memory fakes of the operator and rule-version ports (hub.app.ports), for unit tests
of hub.app.operator and hub.app.rules without Ray or a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hub.app.records import RuleDraftRecord as DraftRecord
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.outbox import OrderKey, OutboxMessage
from hub.errors import OrderHubError


@dataclass
class Snapshot:
    order: Order
    decision: Decision | None
    stage: str


@dataclass
class OperatorAction:
    key: OrderKey
    stage: str
    at: datetime
    detail: dict[str, Any]
    outbox: list[OutboxMessage]
    amended: Order | None
    decision: Decision | None


@dataclass
class FakeOperatorStore:
    """Orders by key, as an operator sees them; the actions it stored, in order.
    ``moved_meanwhile``: a stage the order moves to between the use case's read and its
    write (another operator was quicker)."""

    orders: dict[OrderKey, Snapshot] = field(default_factory=dict)
    actions: list[OperatorAction] = field(default_factory=list)
    moved_meanwhile: str | None = None

    def add(self, order: Order, stage: str, decision: Decision | None = None) -> OrderKey:
        self.orders[order.key] = Snapshot(order, decision, stage)
        return order.key

    def get_order(self, key: OrderKey) -> Snapshot | None:
        return self.orders.get(tuple(key))  # type: ignore[arg-type]

    def recent_orders(self, n: int) -> list[Order]:
        return [s.order for s in reversed(self.orders.values())][:n]

    def apply_operator_action(self, key: OrderKey, stage: str, at: datetime,
                              detail: dict[str, Any], *, only_from: Sequence[str] = (),
                              outbox: Sequence[OutboxMessage] = (),
                              amended: Order | None = None,
                              decision: Decision | None = None) -> bool:
        snap = self.orders.get(key)
        if snap is not None and self.moved_meanwhile is not None:
            snap.stage, self.moved_meanwhile = self.moved_meanwhile, None
        if snap is None or (only_from and snap.stage not in only_from):
            return False
        if amended is not None and amended.modified_at <= snap.order.modified_at:
            return False
        self.actions.append(OperatorAction(key, stage, at, detail, list(outbox), amended,
                                           decision))
        self.orders[key] = Snapshot(amended or snap.order, decision or snap.decision, stage)
        return True


@dataclass(frozen=True)
class RuleRecord:
    version: int
    text: str
    published_by: str
    published_at: datetime | None
    author: str | None = None
    draft: int | None = None
    drafted_at: datetime | None = None


@dataclass
class FakeRuleVersions:
    """Published rule-set versions, by version; ``put`` records what was put in force."""

    records: dict[int, RuleRecord] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    put: list[tuple[int, str]] = field(default_factory=list)
    drafts: dict[int, DraftRecord] = field(default_factory=dict)

    def get_ruleset(self, version: int | None = None) -> RuleRecord | None:
        if version is None:
            return self.records[max(self.records)] if self.records else None
        return self.records.get(version)

    def list_rulesets(self) -> list[RuleRecord]:
        return [self.records[v] for v in sorted(self.records)]

    def publish_ruleset(self, version: int, text: str, published_by: str,
                        at: datetime, *, author: str | None = None,
                        draft: int | None = None) -> None:
        stored = self.records.get(version)
        if stored is not None and stored.text != text:
            raise OrderHubError(f"rule set version {version} is already published")
        if stored is None:
            row = self.drafts.get(draft) if draft is not None else None
            if draft is not None and (row is None or row.published_version is not None):
                raise OrderHubError(f"rule draft {draft} is unknown or published already")
            self.records[version] = RuleRecord(version, text, published_by, at, author, draft,
                                               row.created_at if row else None)
            if row is not None:
                self.drafts[draft] = replace(row, published_version=version)

    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        draft = len(self.drafts) + 1
        self.drafts[draft] = DraftRecord(draft, text, author, comment, at)
        return draft

    def get_rule_draft(self, draft: int) -> DraftRecord | None:
        return self.drafts.get(draft)

    def list_rule_drafts(self, limit: int = 100) -> list[DraftRecord]:
        return [self.drafts[d] for d in sorted(self.drafts, reverse=True)][:limit]

    def recent_orders(self, n: int) -> list[Order]:
        return self.orders[:n]

    def put_in_force(self, version: int, text: str) -> None:
        self.put.append((version, text))
