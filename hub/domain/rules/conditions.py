"""Condition trees: parsing and checking a rule's ``when`` block, and the conservative
proof that two conditions can never both be true (used by the contradiction check).

>>> leaf = parse_condition({"field": "channel", "eq": "douyin"}, ("when",), [])
>>> leaf
Leaf(field='channel', op='eq', value='douyin')
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import product
from typing import Any

from hub.domain.rules.schema import FACT_KINDS, FACT_VALUES, NUMBER, TAGS, TEXT

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "contains", "exists")
COMBINATORS = ("all", "any", "not")
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Leaf:
    field: str
    op: str
    value: Any  # str | int | float | bool | frozenset


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    items: tuple[Cond, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Cond


Cond = Leaf | All | Any_ | Not
ALWAYS = All(())


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_condition(node: Any, path: Path, problems: list[tuple[Path, str]]) -> Cond:
    """Turn plain data into a ``Cond``; each problem is appended as (path, reason)."""
    if not isinstance(node, dict):
        problems.append((path, f"a condition must be a mapping, got {_kind_of(node)}"))
        return ALWAYS
    if "field" in node:
        return _parse_leaf(node, path, problems)
    keys = [k for k in node if k in COMBINATORS]
    if len(keys) != 1 or len(node) != 1:
        unknown = [k for k in node if k not in COMBINATORS]
        if unknown:
            problems.append(((*path, unknown[0]), f"unknown condition key {unknown[0]!r}; "
                             "use all, any, not, or a leaf with field: and one operator"))
        else:
            problems.append((path, "a condition block takes exactly one of all, any, not"))
        return ALWAYS
    key = keys[0]
    body = node[key]
    if key == "not":
        return Not(parse_condition(body, (*path, key), problems))
    if not isinstance(body, list) or not body:
        problems.append(((*path, key), f"{key}: needs a non-empty list of conditions"))
        return ALWAYS
    items = tuple(parse_condition(item, (*path, key, i), problems) for i, item in enumerate(body))
    return All(items) if key == "all" else Any_(items)


def _parse_leaf(node: dict, path: Path, problems: list[tuple[Path, str]]) -> Cond:
    bad = len(problems)
    field = node["field"]
    kind = None
    if not isinstance(field, str):
        problems.append(((*path, "field"), f"field: must be text, got {_kind_of(field)}"))
    elif field not in FACT_KINDS:
        close = difflib.get_close_matches(field, FACT_KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(((*path, "field"), f"unknown order fact {field!r}{hint}; known facts: "
                         + ", ".join(FACT_KINDS)))
    else:
        kind = FACT_KINDS[field]
    ops = []
    for key in node:
        if key == "field":
            continue
        if key in OPERATORS:
            ops.append(key)
        else:
            close = difflib.get_close_matches(str(key), OPERATORS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(((*path, key), f"unknown operator {key!r}{hint}; operators: "
                             + ", ".join(OPERATORS)))
    if len(ops) != 1:
        if len(ops) > 1:
            problems.append(((*path, ops[1]), f"a condition takes exactly one operator, "
                             f"got {', '.join(ops)}; combine them with all:"))
        elif len(problems) == bad:
            problems.append((path, "a condition needs an operator: " + ", ".join(OPERATORS)))
        return ALWAYS
    op = ops[0]
    value = node[op]
    if kind is not None:
        reason = _check_value(field, kind, op, value)
        if reason:
            problems.append(((*path, op), f"{op}: {reason}"))
    if len(problems) != bad:
        return ALWAYS
    if op in ("in", "not_in"):
        value = frozenset(value)
    return Leaf(field, op, value)


def _check_value(field: str, kind: str, op: str, value: Any) -> str | None:
    """Why ``value`` cannot be compared with fact ``field`` by ``op``, or None."""
    if op == "exists":
        return None if isinstance(value, bool) else f"expects true or false, got {_kind_of(value)}"
    if kind == TAGS and op != "contains":
        return f"{field!r} is a list of values; use contains (or exists)"
    if kind == TEXT and op in ("gt", "ge", "lt", "le"):
        return f"{field!r} is text; {op} compares numbers"
    if kind == NUMBER and op == "contains":
        return f"{field!r} is a number; contains works on lists and text"
    want = _is_number if kind == NUMBER else (lambda v: isinstance(v, str))
    noun = "a number" if kind == NUMBER else "text"
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return f"expects a non-empty list of {noun} values, got {_kind_of(value)}"
        values = value
    else:
        values = [value]
    for item in values:
        if not want(item):
            return f"expects {noun} for {field!r}, got {_kind_of(item)} {item!r}"
        allowed = FACT_VALUES.get(field)
        if allowed is not None and item not in allowed:
            return f"{item!r} is not a known {field} value; known: {', '.join(sorted(allowed))}"
    return None


# ---- disjointness: can two conditions never both be true? -------------------------------

_NEGATE = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in"}
_MAX_TERMS = 64


def dnf(cond: Cond, negated: bool = False, *, exact: bool = False) -> list[list[Leaf]] | None:
    """Disjunctive normal form as lists of leaves (None when too large to reason about).
    A negation that cannot be pushed into a leaf becomes opaque (an empty conjunction),
    or, when ``exact``, makes the whole form None."""
    if isinstance(cond, Leaf):
        if not negated:
            return [[cond]]
        if cond.op in _NEGATE:
            return [[Leaf(cond.field, _NEGATE[cond.op], cond.value)]]
        if cond.op == "exists":
            return [[Leaf(cond.field, "exists", not cond.value)]]
        return None if exact else [[]]
    if isinstance(cond, Not):
        return dnf(cond.item, not negated, exact=exact)
    conj = isinstance(cond, All) != negated
    parts = [dnf(item, negated, exact=exact) for item in cond.items]
    if any(p is None for p in parts):
        return None
    if not conj:
        terms = [t for p in parts for t in p]  # type: ignore[union-attr]
        return terms if len(terms) <= _MAX_TERMS else None
    terms: list[list[Leaf]] = [[]]
    for part in parts:
        terms = [a + b for a, b in product(terms, part)]  # type: ignore[arg-type]
        if len(terms) > _MAX_TERMS:
            return None
    return terms


def bounds(leaf: Leaf) -> tuple[float, bool, float, bool] | None:
    """(low, low_open, high, high_open) for numeric comparisons."""
    inf = float("inf")
    v = leaf.value
    return {"gt": (v, True, inf, False), "ge": (v, False, inf, False),
            "lt": (-inf, False, v, True), "le": (-inf, False, v, False),
            "eq": (v, False, v, False)}.get(leaf.op) if _is_number(v) else None


def _leaves_exclusive(a: Leaf, b: Leaf) -> bool:
    if a.field != b.field:
        return False
    pos = {"eq": lambda lf: {lf.value}, "in": lambda lf: set(lf.value)}
    neg = {"ne": lambda lf: {lf.value}, "not_in": lambda lf: set(lf.value)}
    for x, y in ((a, b), (b, a)):
        if x.op in pos and y.op in pos and not pos[x.op](x) & pos[y.op](y):
            return True
        if x.op in pos and y.op in neg and pos[x.op](x) <= neg[y.op](y):
            return True
        if x.op == "exists" and not x.value and y.op in ("gt", "ge", "lt", "le", "contains"):
            return True
        if x.op == "exists" and not x.value and y.op in pos and all(pos[y.op](y)):
            return True
    if a.op == "exists" and b.op == "exists":
        return a.value != b.value
    ba, bb = bounds(a), bounds(b)
    if ba and bb:
        low = max(ba[0], bb[0])
        low_open = (ba[0] == low and ba[1]) or (bb[0] == low and bb[1])
        high = min(ba[2], bb[2])
        high_open = (ba[2] == high and ba[3]) or (bb[2] == high and bb[3])
        return low > high or (low == high and (low_open or high_open))
    return False


def exclusive(a: Cond, b: Cond) -> bool:
    """True only when ``a`` and ``b`` can provably never both hold (conservative)."""
    da, db = dnf(a), dnf(b)
    if da is None or db is None:
        return False
    return all(any(_leaves_exclusive(x, y) for x in ta for y in tb) for ta in da for tb in db)
