"""Deciding a batch: route each order under the rule set in force, from the checks'
and the scorer's answers, and commit the decisions with the messages they owe the
outside world (WMS dispatches, alerts) in one transaction.

The router actor adapts it: it forms the batches, asks the validator and scorer
pools, and re-drives what the store holds undecided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from hub.app.ports import DecisionStore
from hub.app.records import OrderKey
from hub.domain.catalogue import Expansion
from hub.domain.decision import REDECIDES, Anomaly, Decision
from hub.domain.order import Order
from hub.domain.outbox import outbox_for
from hub.domain.priority import Score
from hub.domain.routing import route


@dataclass(frozen=True, slots=True)
class Decided:
    """``decisions``: one per order of the batch, in its order; ``stored``: how many the
    store kept (an order version already decided, or superseded, is not stored again)."""

    decisions: list[Decision]
    stored: int

    @property
    def held(self) -> int:
        return sum(d.held for d in self.decisions)


async def decide_batch(batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
                       scores: Sequence[Score], rule_set: Any, store: DecisionStore, *,
                       lines: Sequence[Expansion] | None = None,
                       again: Mapping[OrderKey, str] | None = None) -> Decided:
    """Route ``batch`` (``anomalies`` and ``scores`` are the pools' answers, one per
    order) under ``rule_set`` and commit the decisions and their outbox rows.
    ``lines``: the orders' merchant SKUs (``catalogue.expand_batch``); ``again``: the
    orders decided again while held, with the hold's reason (the store keeps the new
    decision over the held one)."""
    decisions = route(batch, anomalies, scores, rule_set, lines)
    if again:
        decisions = [msgspec.structs.replace(d, extra={**d.extra, REDECIDES: again[d.key]})
                     if d.key in again else d for d in decisions]
    stored = await store.commit_decisions(decisions, outbox_for(batch, decisions))
    return Decided(decisions, stored)
