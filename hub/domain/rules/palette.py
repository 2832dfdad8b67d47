"""What the block builder may offer: every order fact with the operators the check
accepts for its kind, the closed values it accepts (``FACT_VALUES``), and, for open
values, suggestions taken from recent orders (shops, sources and live rooms, SKUs, buyer
tags, provinces, ...), so the builder cannot offer what the check refuses.

>>> p = palette([])
>>> channel = next(f for f in p["fields"] if f["name"] == "channel")
>>> channel["values"], channel["operators"][:2]
(['douyin', 'jd', 'tmall'], ['eq', 'ne'])
>>> next(f for f in p["fields"] if f["name"] == "buyer.tags")["operators"]
['contains', 'exists']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from hub.domain.facts import facts_builder
from hub.domain.order import Order
from hub.domain.rules.conditions import COMBINATORS
from hub.domain.rules.schema import (
    DEFAULT_ANOMALIES,
    FACT_KINDS,
    FACT_VALUES,
    NUMBER,
    TAGS,
    TEXT,
    Actions,
)

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "in", "not_in", "contains", "exists"),
    NUMBER: ("eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "exists"),
    TAGS: ("contains", "exists"),
}
# open-valued facts whose recent values help (identifiers and buyers' data are left out)
SUGGESTED = ("shop", "source", "source_detail", "warehouse_hint", "buyer.tier", "buyer.tags",
             "receiver.province", "receiver.city", "items.skus")
MAX_SUGGESTIONS = 50
ACTION_VALUES: dict[str, list[str] | None] = {
    "lane": ["P0", "P1", "P2", "P3"], "packing_group": None, "hold": None, "alert": None,
    "delivery": ["express", "same_city", "standard"]}
assert set(ACTION_VALUES) == set(Actions.model_fields)


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def suggestions(orders: Iterable[Order]) -> dict[str, list[str]]:
    """The most frequent values of each suggested fact over ``orders`` (most first)."""
    build = facts_builder(SUGGESTED)
    seen: dict[str, Counter] = {name: Counter() for name in SUGGESTED}
    for order in orders:
        for name, value in build(order, 0.0, "P3", ()).items():
            values = value if isinstance(value, tuple | list) else (value,)
            seen[name].update(str(_plain(v)) for v in values if v not in (None, ""))
    return {name: [v for v, _ in counts.most_common(MAX_SUGGESTIONS)]
            for name, counts in seen.items()}


def palette(orders: Sequence[Order], packing_groups: Iterable[str] = ()) -> dict[str, Any]:
    """The builder's schema: fields, actions, combinators and hit policies."""
    found = suggestions(orders)
    fields = []
    for name, kind in FACT_KINDS.items():
        closed = FACT_VALUES.get(name)
        fields.append({
            "name": name, "kind": kind, "operators": list(OPERATORS_BY_KIND[kind]),
            "values": sorted(str(_plain(v)) for v in closed) if closed is not None else None,
            "suggestions": found.get(name, [])})
    groups = sorted({g for g in packing_groups if g})
    alert_groups = sorted({p["group"] for p in DEFAULT_ANOMALIES.values()})
    actions = [{"name": name, "values": values,
                "suggestions": {"packing_group": groups, "hold": ["rule_hold"],
                                "alert": alert_groups}.get(name, [])}
               for name, values in ACTION_VALUES.items()]
    return {"fields": fields, "actions": actions, "combinators": list(COMBINATORS),
            "hit_policies": ["first", "collect"]}
