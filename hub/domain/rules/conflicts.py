"""Warnings about a rule set that the check accepts: rules that can never fire, and rules
that can match the same order and set the same action differently.

- ``never``: a rule whose condition can never hold (``channel eq jd`` and ``channel eq
  tmall`` together).
- ``shadowed``: under hit policy ``first``, a rule above it (lower precedence number, or
  the same and earlier in the file) matches every order it matches, so it never fires.
- ``overlap``: two rules whose conditions can both hold set ``lane``, ``packing_group``,
  ``hold`` or ``delivery`` to different values; the one above wins (under ``first`` the
  one below does not fire for those orders; under ``collect`` its action is dropped).

The proofs are conservative: ``shadowed`` and ``never`` are reported only when proven
(``implies``, ``conditions.exclusive``); ``overlap`` whenever exclusivity is not proven.

>>> from hub.domain.rules import load_ruleset
>>> rs = load_ruleset('''version: 1
... name: x
... rules:
...   - {id: jd, precedence: 1, when: {field: channel, eq: jd}, then: {lane: P1}}
...   - {id: jd-big, precedence: 2, when: {all: [{field: channel, eq: jd},
...       {field: amounts.paid_fen, gt: 100}]}, then: {lane: P0}}
... ''')
>>> [(w.kind, w.rule_id, w.line, w.other_rule_id) for w in conflicts(rs)]
[('shadowed', 'jd-big', 5, 'jd')]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.domain.rules.conditions import Cond, Leaf, bounds, dnf, exclusive
from hub.domain.rules.model import Rule, RuleSet

EXCLUSIVE_ACTIONS = ("lane", "packing_group", "hold", "delivery")
_BOUNDED = ("gt", "ge", "lt", "le")


@dataclass(frozen=True, slots=True)
class Warning_:
    """One warning: ``block`` is the rule's position in evaluation order (as the block
    builder lists the rules), ``line`` its line in the file."""

    kind: str  # never | shadowed | overlap
    rule_id: str
    line: int
    block: int
    reason: str
    other_rule_id: str | None = None
    other_line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: warning: {self.reason}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _within(inner: tuple, outer: tuple) -> bool:
    lo_ok = inner[0] > outer[0] or (inner[0] == outer[0] and (inner[1] or not outer[1]))
    hi_ok = inner[2] < outer[2] or (inner[2] == outer[2] and (inner[3] or not outer[3]))
    return lo_ok and hi_ok


def _present(value: Any) -> bool:
    """Whether a fact equal to ``value`` counts as present for ``exists``."""
    return _number(value) or (isinstance(value, str) and value != "")


def _values(leaf: Leaf) -> set | None:
    """The values an ``eq``/``in`` leaf allows."""
    if leaf.op == "eq":
        return {leaf.value}
    if leaf.op == "in":
        return set(leaf.value)
    return None


def leaf_implies(a: Leaf, b: Leaf) -> bool:
    """True only when ``a`` holding proves ``b`` holds (for the same order's facts; a
    missing fact makes ``ne``/``not_in`` true and every other test but ``exists false``
    false)."""
    if a.field != b.field:
        return False
    if a == b:
        return True
    allowed = _values(a)
    if allowed is not None:  # eq / in: the fact is one of these values
        if b.op in ("eq", "in"):
            return allowed <= _values(b)  # type: ignore[operator]
        if b.op in ("ne", "not_in"):
            return not allowed & ({b.value} if b.op == "ne" else set(b.value))
        if b.op == "exists":
            return all(_present(v) == bool(b.value) for v in allowed)
        if b.op in _BOUNDED:
            outer = bounds(b)
            return outer is not None and all(
                _number(v) and _within((v, False, v, False), outer) for v in allowed)
        if b.op == "contains":
            return all(isinstance(v, str) and isinstance(b.value, str) and b.value in v
                       for v in allowed)
        return False
    if a.op in ("ne", "not_in"):
        excluded = {a.value} if a.op == "ne" else set(a.value)
        if b.op in ("ne", "not_in"):
            return ({b.value} if b.op == "ne" else set(b.value)) <= excluded
        return False
    if a.op in _BOUNDED:
        inner = bounds(a)
        if b.op == "exists":
            return bool(b.value)
        if b.op in _BOUNDED:
            outer = bounds(b)
            return inner is not None and outer is not None and _within(inner, outer)
        if b.op in ("ne", "not_in"):
            excluded = {b.value} if b.op == "ne" else set(b.value)
            return inner is not None and all(
                not (_number(v) and _within((v, False, v, False), inner)) for v in excluded)
        return False
    if a.op == "contains":
        return b.op == "exists" and bool(b.value) and a.value != ""
    if a.op == "exists" and not a.value and b.op in ("ne", "not_in"):
        # absent: ne / not_in of present values hold
        excluded = {b.value} if b.op == "ne" else set(b.value)
        return all(_present(v) for v in excluded)
    return False


def _term_impossible(term: list[Leaf]) -> bool:
    return any(exclusive(x, y) for i, x in enumerate(term) for y in term[i:])


def _term_implies(a: list[Leaf], b: list[Leaf]) -> bool:
    return all(any(leaf_implies(x, y) for x in a) for y in b)


def implies(a: Cond, b: Cond) -> bool:
    """True only when every order ``a`` matches, ``b`` matches too (conservative)."""
    da, db = dnf(a, exact=True), dnf(b, exact=True)
    if da is None or db is None:
        return False
    return all(_term_impossible(ta) or any(_term_implies(ta, tb) for tb in db) for ta in da)


def never(cond: Cond) -> bool:
    """True only when no order can match ``cond``."""
    return exclusive(cond, cond)


def _clash(above: Rule, below: Rule) -> list[str]:
    return sorted(k for k in EXCLUSIVE_ACTIONS
                  if k in above.then and k in below.then and above.then[k] != below.then[k])


def conflicts(ruleset: RuleSet) -> list[Warning_]:
    """Every warning for ``ruleset``'s rules (in evaluation order), sorted by line."""
    rules = ruleset.rules
    found: list[Warning_] = []
    for i, rule in enumerate(rules):
        if never(rule.when):
            found.append(Warning_("never", rule.id, rule.line, i,
                                  f"rule {rule.id!r} can never fire: its condition can never "
                                  "hold"))
            continue
        if ruleset.hit_policy == "first":
            cover = next((j for j in range(i) if implies(rule.when, rules[j].when)), None)
            if cover is not None:
                above = rules[cover]
                found.append(Warning_(
                    "shadowed", rule.id, rule.line, i,
                    f"rule {rule.id!r} can never fire: rule {above.id!r} (line {above.line}) "
                    "comes first and matches every order it matches (hit policy first)",
                    above.id, above.line))
                continue
        for j in range(i):
            above = rules[j]
            clash = _clash(above, rule)
            if not clash or never(above.when) or exclusive(above.when, rule.when):
                continue
            what = ", ".join(f"{k} ({above.then[k]} vs {rule.then[k]})" for k in clash)
            found.append(Warning_(
                "overlap", rule.id, rule.line, i,
                f"rules {above.id!r} (line {above.line}) and {rule.id!r} can match the same "
                f"order and set {what}; {above.id!r} comes first and wins", above.id,
                above.line))
    return sorted(found, key=lambda w: (w.line, w.block))
