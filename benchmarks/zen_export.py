"""The routing rules as a GoRules JDM decision table, so zen-engine can evaluate the same
table as our evaluator (for the benchmark and the equivalence test).

Flat rules (an ``all`` of leaves) become one row with one unary-test cell per fact column;
any other rule gets a column of its own whose input is its whole condition as a zen
expression, and the cell ``true``. Facts are given
to zen nested (``buyer.tags`` -> ``{"buyer": {"tags": [...]}}``); see ``nest_facts``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain.rules import FACT_KINDS, NUMBER, All, Cond, Leaf, Not, RuleSet

ACTIONS = ("lane", "packing_group", "hold", "alert", "delivery")


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _leaf(leaf: Leaf, x: str) -> str:
    """``leaf`` as a standard zen expression over ``x`` (a fact path)."""
    op, v = leaf.op, leaf.value
    if op == "exists":
        test = f"{x} != null" if FACT_KINDS[leaf.field] == NUMBER else \
            f"({x} != null and len({x}) > 0)"
        return test if v else f"not({test})"
    if op in ("in", "not_in"):
        items = "[" + ", ".join(_lit(i) for i in sorted(v, key=repr)) + "]"
        return f"{x} in {items}" if op == "in" else f"not({x} in {items})"
    if op == "contains":
        return f"({x} != null and contains({x}, {_lit(v)}))"
    symbol = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
    if op in ("eq", "ne"):
        return f"{x} {symbol} {_lit(v)}"
    return f"({x} != null and {x} {symbol} {_lit(v)})"


def _cell(leaf: Leaf) -> str | None:
    """``leaf`` as a decision-table cell (a zen unary test on ``$``), None if it has no
    simple one (zen's unary parser refuses grouped or/and)."""
    op, v = leaf.op, leaf.value
    if op == "eq":
        return _lit(v)
    if op == "in":
        return ", ".join(_lit(i) for i in sorted(v, key=repr))
    if op == "exists" and not v:
        return "$ == null" if FACT_KINDS[leaf.field] == NUMBER else None
    text = _leaf(leaf, "$")
    return text[1:-1] if text.startswith("(") else text


def _expr(cond: Cond) -> str:
    if isinstance(cond, Leaf):
        return f"({_leaf(cond, cond.field)})"
    if isinstance(cond, Not):
        return f"not({_expr(cond.item)})"
    if not cond.items:
        return "true"
    joiner = " and " if isinstance(cond, All) else " or "
    return "(" + joiner.join(_expr(c) for c in cond.items) + ")"


def _flat(cond: Cond) -> list[Leaf] | None:
    """The leaves of a pure conjunction, or None."""
    if isinstance(cond, Leaf):
        return [cond]
    if isinstance(cond, All):
        leaves: list[Leaf] = []
        for item in cond.items:
            sub = _flat(item)
            if sub is None:
                return None
            leaves += sub
        return leaves
    return None


def _cells(cond: Cond) -> dict[str, str] | None:
    """Cells per fact for a rule whose condition fits table cells, else None."""
    leaves = _flat(cond)
    if leaves is None:
        return None
    cells: dict[str, str] = {}
    for leaf in leaves:
        cell = _cell(leaf)
        if cell is None or leaf.field in cells:
            return None
        cells[leaf.field] = cell
    return cells


def to_zen_decision_table(ruleset: RuleSet) -> dict:
    """A JDM graph (input -> decision table -> output) equivalent to ``ruleset.rules``.
    Each row outputs ``rule`` (the rule id) and ``actions``; hit policy as the rule set's."""
    columns: dict[str, str] = {}  # input field or expression -> column id
    rows = []
    for n, rule in enumerate(ruleset.rules):
        row: dict[str, str] = {"_id": f"row{n}", "rule": _lit(rule.id)}
        cells = _cells(rule.when)
        if cells is None:  # the whole condition becomes an expression column of its own
            cells = {_expr(rule.when): "true"}
        for field, cell in cells.items():
            row[columns.setdefault(field, f"in{len(columns)}")] = cell
        for key, value in rule.then.items():
            row[f"out_{key}"] = _lit(value)
        rows.append(row)
    inputs = [{"id": col, "name": field, "field": field} for field, col in columns.items()]
    outputs = [{"id": "rule", "name": "rule", "field": "rule"}] + [
        {"id": f"out_{a}", "name": a, "field": f"actions.{a}"} for a in ACTIONS]
    for row in rows:
        for col in [c["id"] for c in inputs + outputs]:
            row.setdefault(col, "")
    table = {"hitPolicy": ruleset.hit_policy, "inputs": inputs, "outputs": outputs,
             "rules": rows}
    at = {"x": 0, "y": 0}
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Order facts", "position": at},
            {"id": "routing", "type": "decisionTableNode", "name": f"{ruleset.name} "
             f"v{ruleset.version}", "position": at, "content": table},
            {"id": "response", "type": "outputNode", "name": "Hits", "position": at},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "routing"},
            {"id": "e2", "type": "edge", "sourceId": "routing", "targetId": "response"},
        ],
    }


def nest_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Flat dotted facts as the nested JSON object the JDM table reads."""
    out: dict[str, Any] = {}
    for key, value in facts.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = list(value) if isinstance(value, tuple) else value
    return out


def zen_decision(ruleset: RuleSet) -> Any:
    """The ruleset's table loaded into zen-engine (a ``zen.ZenDecision``)."""
    import zen

    graph = json.dumps(to_zen_decision_table(ruleset), ensure_ascii=False)
    return zen.ZenEngine().create_decision(graph)


def rule_ids(result: Any) -> list[str]:
    """Rule ids hit, from one zen evaluation's ``result`` (dict for first, list for collect)."""
    if isinstance(result, list):
        return [row["rule"] for row in result]
    return [result["rule"]] if result.get("rule") else []


def zen_evaluate(ruleset: RuleSet, facts: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Rule ids hit per order, as zen-engine evaluates ``to_zen_decision_table(ruleset)``."""
    decision = zen_decision(ruleset)
    return [rule_ids(decision.evaluate(nest_facts(f))["result"]) for f in facts]
