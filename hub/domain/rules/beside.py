"""A candidate rule set's hits, computed beside the live rule set's on the same facts:
what the live rules found is reused, so only what the candidate changed is evaluated
(the shadow run, issue #22).

A candidate rule whose condition equals a live rule's (rule ``k`` in the live order) is
known from the live hits: under the live policy ``first``, with ``j`` the live rule that
fired (the number of live rules when none did), rule ``k`` was false for ``k < j``, true
for ``k == j``, and is evaluated only for ``k > j``; under ``collect`` it is true exactly
when ``k`` fired. Only conditions over the same facts may be reused: the caller gives
the same anomalies and scores to both.

>>> from hub.domain.rules import load_ruleset
>>> jd = "{id: jd, precedence: 5, when: {field: channel, eq: jd}, then: {lane: P1}}"
>>> big = "{id: big, precedence: 1, when: {field: score, gt: 90}, then: {lane: P0}}"
>>> live = load_ruleset(f"version: 1\\nname: a\\nrules: [{jd}]\\n")
>>> cand = load_ruleset(f"version: 2\\nname: a\\nrules: [{big}, {jd.replace('P1', 'P2')}]\\n")
>>> plan(live, cand)
(None, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hub.domain.rules.evaluator import Hit, Inline, _Codegen, hit_lines
from hub.domain.rules.model import RuleSet

Known = int | frozenset[int]  # per order: the live rule that fired (first), or all (collect)


def plan(live: RuleSet, candidate: RuleSet) -> tuple[int | None, ...]:
    """For each candidate rule, the first live rule with the same condition, or None."""
    first: dict[Any, int] = {}
    for k, rule in enumerate(live.rules):
        first.setdefault(rule.when, k)
    return tuple(first.get(rule.when) for rule in candidate.rules)


def known(live: RuleSet, fired: Sequence[Sequence[str]]) -> list[Known]:
    """What the live hits say per order (``fired``: each decision's rules fired)."""
    index = {rule.id: k for k, rule in enumerate(live.rules)}
    if live.hit_policy == "collect":
        return [frozenset(index[r] for r in ids) for ids in fired]
    none = len(live.rules)
    return [index[ids[0]] if ids else none for ids in fired]


def compile_beside(live: RuleSet, candidate: RuleSet, rows: Inline,
                   ) -> Callable[..., list[list[Hit]]]:
    """The candidate's hits over ``rows``' columns and the ``known`` column."""
    gen = _Codegen(rows.expressions)
    reuse = plan(live, candidate)
    tests = []
    for rule, k in zip(candidate.rules, reuse, strict=True):
        if k is None:
            tests.append(gen.expr(rule.when))
        elif live.hit_policy == "collect":
            tests.append(f"({k} in j)")
        else:
            tests.append(f"(j == {k} or (j < {k} and {gen.expr(rule.when)}))")
    columns = (*rows.columns, "known")
    lines = [f"def evaluate_batch({', '.join(columns)}):", "    out = []",
             "    app = out.append",
             f"    for {', '.join(rows.names)}, j in zip({', '.join(columns)}):"]
    lines += [f"        {statement}" for statement in rows.prelude]
    lines += hit_lines(tests, candidate.hit_policy)
    namespace: dict[str, Any] = dict(rows.namespace)
    namespace.update(gen.consts)
    namespace.update({f"H{i}": Hit(rule.id, dict(rule.then))
                      for i, rule in enumerate(candidate.rules)})
    exec(compile("\n".join(lines) + "\n", "<rules-beside>", "exec"), namespace)  # checked rules
    return namespace["evaluate_batch"]
