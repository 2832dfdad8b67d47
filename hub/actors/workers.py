"""The validator and scorer replicas: the domain core, one batch per call.

A batch carries the rule set it must be decided under as ``(version, text)``;
each replica compiles a version once and keeps it, so a new version swaps in
between batches and no batch is decided under a mix of two.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain.order import Order
from hub.domain.order_codec import OrderBatch
from hub.gcwatch import GcWatch

RulesRef = tuple[int, str]
Batch = Sequence[Order] | bytes  # the orders, or ``for_pools`` of them


def for_pools(batch: Sequence[Order]) -> bytes:
    """``batch`` pickled once for both pools: an ``OrderBatch``, its orders' flat tuples
    pickled together; a replica's ``pickle.loads`` gives back the list of orders."""
    return pickle.dumps(OrderBatch(batch), protocol=5)


def _orders(batch: Batch) -> Sequence[Order]:
    return pickle.loads(batch) if isinstance(batch, bytes) else batch


class _CompiledRules:
    def __init__(self) -> None:
        self._cache: dict[int, Any] = {}

    def get(self, ref: RulesRef) -> Any:
        version, text = ref
        ruleset = self._cache.get(version)
        if ruleset is None:
            from hub.domain.rules import load_ruleset

            ruleset = load_ruleset(text, f"ruleset-v{version}")
            self._cache = {version: ruleset, **dict(list(self._cache.items())[-2:])}
        return ruleset


class _Worker:
    batches: int

    def stats(self) -> dict[str, Any]:
        return {"batches": self.batches, "gc": GcWatch.install().snapshot()}


class Validator(_Worker):
    """Anomaly checks for a batch (address, payment, stock, duplicates, ...)."""

    def __init__(self, *, gc_threshold: tuple[int, ...] | None = None) -> None:
        from hub.domain.address import divisions

        self.rules = _CompiledRules()
        self.batches = 0
        GcWatch.install(actor=True, threshold=gc_threshold)
        divisions()  # load the division table now, not inside the first batch

    def warm(self, rules: RulesRef) -> int:
        """Compile ``rules`` and load the checks now, not inside the first batch."""
        from hub.domain.anomalies import find_anomalies

        find_anomalies([], {}, [], self.rules.get(rules))
        return rules[0]

    def check(
        self,
        batch: Batch,
        inventory: Mapping[str, int],
        recent: Sequence[Order],
        rules: RulesRef,
        lines: Sequence[Any] | None = None,
        stocks: Sequence[Any] | None = None,
    ) -> list[list[Any]]:
        """``lines``: the batch's merchant SKUs (``catalogue.expand_batch``), ``stocks``:
        its stock states, checked and drawn by the router (computed here when None)."""
        from hub.domain.anomalies import find_anomalies

        self.batches += 1
        return find_anomalies(_orders(batch), inventory, recent, self.rules.get(rules), stocks,
                              lines)


class Scorer(_Worker):
    """Priority score, per-dimension breakdown and lane for a batch."""

    def __init__(self, *, gc_threshold: tuple[int, ...] | None = None) -> None:
        self.rules = _CompiledRules()
        self.batches = 0
        GcWatch.install(actor=True, threshold=gc_threshold)

    def warm(self, rules: RulesRef) -> int:
        """Compile ``rules`` and load the scoring now, not inside the first batch."""
        from hub.domain.priority import score_batch

        score_batch([], {}, self.rules.get(rules))
        return rules[0]

    def score(self, batch: Batch, inventory: Mapping[str, int], rules: RulesRef,
              lines: Sequence[Any] | None = None, stocks: Sequence[Any] | None = None) -> list:
        from hub.domain.priority import score_batch

        self.batches += 1
        return score_batch(_orders(batch), inventory, self.rules.get(rules), lines, stocks)
