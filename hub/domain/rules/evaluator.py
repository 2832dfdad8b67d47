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
from collections.abc import Callable, Mapping, Sequence
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
    def __init__(self, inline: Mapping[str, str] | None = None) -> None:
        self.fields: dict[str, str] = {}
        self.consts: dict[str, Any] = {}
        self.inline = inline

    def var(self, field: str) -> str:
        if self.inline is not None:
            return f"({self.inline[field]})"
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


def _generate(rules: Sequence[Rule], hit_policy: str, rows: Inline | None = None,
              ) -> tuple[str, dict[str, Any]]:
    gen = _Codegen(rows.expressions if rows else None)
    tests = [gen.expr(rule.when) for rule in rules]
    if rows is None:
        lines = ["def evaluate_batch(facts):", "    out = []", "    app = out.append",
                 "    for f in facts:", "        g = f.get"]
        lines += [f"        {var} = g({field!r})" for field, var in gen.fields.items()]
    else:
        lines = [f"def evaluate_batch({', '.join(rows.columns)}):", "    out = []",
                 "    app = out.append",
                 f"    for {', '.join(rows.names)} in zip({', '.join(rows.columns)}):"]
        lines += [f"        {statement}" for statement in rows.prelude]
    lines += hit_lines(tests, hit_policy)
    namespace: dict[str, Any] = dict(rows.namespace) if rows else {}
    namespace.update(gen.consts)
    namespace.update({f"H{i}": Hit(rule.id, dict(rule.then)) for i, rule in enumerate(rules)})
    return "\n".join(lines) + "\n", namespace


def hit_lines(tests: Sequence[str], hit_policy: str) -> list[str]:
    """The loop body's end: each order's hits (``H<i>``, rule i's) by the hit policy, and
    the function's return."""
    if not tests:
        lines = ["        app([])"]
    elif hit_policy == "first":
        lines = []
        for i, test in enumerate(tests):
            lines += [f"        {'if' if i == 0 else 'elif'} {test}:", f"            app([H{i}])"]
        lines += ["        else:", "            app([])"]
    else:
        lines = ["        hits = []"]
        for i, test in enumerate(tests):
            lines += [f"        if {test}:", f"            hits.append(H{i})"]
        lines.append("        app(hits)")
    return [*lines, "    return out"]


@dataclass(frozen=True, eq=False)
class Inline:
    """How to evaluate the rules straight over rows of columns instead of fact dicts:
    ``columns`` are the generated function's arguments, zipped into ``names`` per row;
    ``expressions`` give each fact as a Python expression over those names, evaluated
    only when a rule's test reaches it; ``namespace`` holds what they call."""

    columns: tuple[str, ...]
    names: tuple[str, ...]
    expressions: Mapping[str, str]
    namespace: Mapping[str, Any]
    prelude: tuple[str, ...] = ()  # statements run for each row before the tests


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
        self._over: dict[Inline, Callable[..., list[list[Hit]]]] = {}

    def over(self, rows: Inline) -> Callable[..., list[list[Hit]]]:
        """The rules compiled over ``rows`` (memoised per ``Inline``): the function takes
        the columns and gives the hits per row, as ``evaluate`` does for fact dicts. Only
        the facts a test reaches are computed."""
        compiled = self._over.get(rows)
        if compiled is None:
            source, namespace = _generate(self.rules, self.hit_policy, rows)
            exec(compile(source, "<rules-over-rows>", "exec"), namespace)  # checked rules
            compiled = self._over[rows] = namespace["evaluate_batch"]
        return compiled

    def evaluate(self, facts: Sequence[Mapping[str, Any]]) -> list[list[Hit]]:
        """Hits per order, in the order of ``facts``."""
        return self._batch(facts)

    def evaluate_one(self, facts: Mapping[str, Any]) -> list[Hit]:
        return self._batch((facts,))[0]
