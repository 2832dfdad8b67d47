"""The compiled form of a rule set's routing rules: one generated Python function that
walks a whole batch of order facts, so no rule tree is interpreted per order.

>>> from hub.domain.rules.conditions import Leaf
>>> from hub.domain.rules.model import Rule
>>> ev = Evaluator((Rule("r1", 10, Leaf("channel", "eq", "jd"), {"lane": "P1"}),), "first")
>>> [[h.rule_id for h in hits] for hits in ev.evaluate([{"channel": "jd"}, {"channel": "x"}])]
[['r1'], []]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.domain.rules.conditions import All, Any_, Cond, Leaf, Not
from hub.domain.rules.model import Rule
from hub.domain.rules.schema import FACT_KINDS, NUMBER


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that fired for one order. ``actions`` is shared between hits: read it only."""

    rule_id: str
    actions: dict[str, str]


def merge_actions(hits: Sequence[Hit]) -> dict[str, Any]:
    """One action set from hits in precedence order: the first hit that sets a key wins,
    and ``alert`` becomes the tuple of every alert group named (in order, no repeats)."""
    merged: dict[str, Any] = {}
    alerts: list[str] = []
    for hit in hits:
        for key, value in hit.actions.items():
            if key == "alert":
                if value not in alerts:
                    alerts.append(value)
            else:
                merged.setdefault(key, value)
    if alerts:
        merged["alert"] = tuple(alerts)
    return merged


class _Codegen:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.consts: dict[str, Any] = {}

    def var(self, field: str) -> str:
        return self.fields.setdefault(field, f"x{len(self.fields)}")

    def const(self, value: Any) -> str:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return repr(value)
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        name = f"k{len(self.consts)}"
        self.consts[name] = value
        return name

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, All):
            return "(" + " and ".join(map(self.expr, cond.items)) + ")" if cond.items else "True"
        if isinstance(cond, Any_):
            return "(" + " or ".join(map(self.expr, cond.items)) + ")"
        if isinstance(cond, Not):
            return f"(not {self.expr(cond.item)})"
        return self.leaf(cond)

    def leaf(self, leaf: Leaf) -> str:
        x, op = self.var(leaf.field), leaf.op
        if op == "exists":
            test = f"{x} is not None" if FACT_KINDS[leaf.field] == NUMBER else f"bool({x})"
            return f"({test})" if leaf.value else f"(not ({test}))"
        c = self.const(leaf.value)
        if op == "contains":
            return f"({c} in ({x} or ()))"
        symbol = {"eq": "==", "ne": "!=", "in": "in", "not_in": "not in",
                  "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        if op in ("gt", "ge", "lt", "le"):
            return f"({x} is not None and {x} {symbol} {c})"
        return f"({x} {symbol} {c})"


def _generate(rules: Sequence[Rule], hit_policy: str) -> tuple[str, dict[str, Any]]:
    gen = _Codegen()
    tests = [gen.expr(rule.when) for rule in rules]
    lines = ["def evaluate_batch(facts):", "    out = []", "    app = out.append",
             "    for f in facts:", "        g = f.get"]
    lines += [f"        {var} = g({field!r})" for field, var in gen.fields.items()]
    if not rules:
        lines.append("        app([])")
    elif hit_policy == "first":
        for i, test in enumerate(tests):
            lines += [f"        {'if' if i == 0 else 'elif'} {test}:", f"            app([H{i}])"]
        lines += ["        else:", "            app([])"]
    else:
        lines.append("        hits = []")
        for i, test in enumerate(tests):
            lines += [f"        if {test}:", f"            hits.append(H{i})"]
        lines.append("        app(hits)")
    lines.append("    return out")
    namespace: dict[str, Any] = dict(gen.consts)
    namespace.update({f"H{i}": Hit(rule.id, dict(rule.then)) for i, rule in enumerate(rules)})
    return "\n".join(lines) + "\n", namespace


class Evaluator:
    """Rules compiled once; ``evaluate`` runs them over a batch of order facts.

    ``hit_policy`` "first": at most one hit per order (lowest precedence number, then file
    order). "collect": every hit, in that order.
    """

    def __init__(self, rules: Sequence[Rule], hit_policy: str) -> None:
        self.rules = tuple(rules)
        self.hit_policy = hit_policy
        self.source, namespace = _generate(self.rules, hit_policy)
        exec(compile(self.source, "<rules>", "exec"), namespace)  # generated from checked rules
        self._batch = namespace["evaluate_batch"]

    def evaluate(self, facts: Sequence[Mapping[str, Any]]) -> list[list[Hit]]:
        """Hits per order, in the order of ``facts``."""
        return self._batch(facts)

    def evaluate_one(self, facts: Mapping[str, Any]) -> list[Hit]:
        return self._batch((facts,))[0]
