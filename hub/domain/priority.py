"""Priority: a weighted score over four dimensions, each 0..100 from the rule set's tables.

order_type (live_flash, presale_final, ...), customer_tier (buyer.tier), region
(same_city > express > remote region > the rest) and inventory (low stock ships first,
out of stock last). The lane follows from the score and the rule set's thresholds.

>>> from hub.domain.rules import default_ruleset
>>> from tests.factories import order
>>> o = order(1, order_type="live_flash", delivery="same_city", buyer={"id": "b", "tier": "plus"})
>>> s = score_batch([o], {"SKU-1": 500}, default_ruleset())[0]
>>> s.score, s.lane, s.labels
(96.0, 'P0', ('live_flash', 'plus', 'same_city', 'in_stock'))
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from hub.domain.address import remote_provinces
from hub.domain.catalogue import Expansion
from hub.domain.order import Order, OrderStatus

DIMENSIONS = ("order_type", "customer_tier", "region", "inventory")
_PAID = OrderStatus.PAID  # a module constant: reading the enum's member is slow


class Score(NamedTuple):
    score: float  # 0..100, the weighted sum
    breakdown: dict[str, float]  # dimension -> its 0..100 score before weighting
    lane: str  # the lane the score falls in, before routing rules
    labels: tuple[str, ...]  # the table entry used per dimension, e.g. ("live_flash", ...)


class Tables(NamedTuple):
    """A rule set's priority tables, as (label -> weighted points) lookups."""

    weights: tuple[float, ...]
    raw: tuple[dict[str, float], ...]  # per dimension: label -> 0..100
    points: tuple[dict[str, float], ...]  # per dimension: label -> weight x score
    lanes: tuple[tuple[float, str], ...]  # (minimum score, lane), highest first
    remote: frozenset[str]
    remote_prefixes: tuple[str, ...]
    low_stock: int
    scores: dict[tuple[str, str, str, str], Score]  # memo: labels -> Score


_TABLES: dict[int, tuple[Any, Tables]] = {}


def tables(ruleset: Any) -> Tables:
    """The priority tables of ``ruleset``, computed once per rule-set object."""
    cached = _TABLES.get(id(ruleset))
    if cached is not None and cached[0]() is ruleset:
        return cached[1]
    weights = tuple(float(ruleset.weights[d]) for d in DIMENSIONS)
    raw = tuple(dict(ruleset.scores[d]) for d in DIMENSIONS)
    points = tuple({k: w * v for k, v in table.items()}
                   for w, table in zip(weights, raw, strict=True))
    region = ruleset.scores["region"]
    for name in ("same_city", "express", "remote"):
        points[2].setdefault(name, weights[2] * region.get(name, region["default"]))
    lanes = tuple(sorted(((float(v), k) for k, v in ruleset.lanes.items()), reverse=True))
    remote = tuple(ruleset.remote_regions)
    made = Tables(weights, raw, points, lanes, remote_provinces(remote), remote,
                  int(ruleset.low_stock), {})
    _TABLES[id(ruleset)] = (weakref.ref(ruleset), made)
    return made


StockState = tuple[str, tuple[str, ...]]
UNMAPPED: StockState = ("unknown", ())


def stock_states(batch: Sequence[Order], inventory: Mapping[str, int], low_stock: int,
                 lines: Sequence[Expansion] | None = None) -> list[StockState]:
    """Per order: its inventory state (out, low, unknown, in_stock) and the SKUs short.

    Paid orders draw the snapshot down in batch order; an order that cannot be served
    whole takes nothing (it will be held). SKUs missing from the snapshot are unknown.
    ``lines``: each order's merchant SKUs (``catalogue.expand_batch``), checked against a
    snapshot of merchant SKUs, one stock for every channel; an order with an unmapped
    line is unknown and takes nothing. Without them an item's own SKU id is its stock's.
    """
    if lines is not None:
        return _merchant_states(batch, inventory, low_stock, lines)
    left = dict(inventory) if inventory else {}
    out = []
    for order in batch:
        fields = order.__dict__  # pydantic attributes are slow to read; the dict is not
        lines = [item.__dict__ for item in fields["items"]]
        state, short = "in_stock" if left else "unknown", ()
        for item in lines:
            have = left.get(item["sku"])
            if have is None:
                if state == "in_stock":
                    state = "unknown"
            elif have < item["quantity"]:
                state, short = "out", (*short, item["sku"])
            elif have < low_stock and state != "out":
                state = "low"
        if fields["status"] == _PAID and state != "out" and left:
            for item in lines:
                if item["sku"] in left:
                    left[item["sku"]] -= item["quantity"]
        out.append((state, short))
    return out


def _merchant_states(batch: Sequence[Order], inventory: Mapping[str, int], low_stock: int,
                     lines: Sequence[Expansion]) -> list[StockState]:
    left = dict(inventory) if inventory else {}
    out: list[StockState] = []
    for order, (skus, unmapped) in zip(batch, lines, strict=True):
        if unmapped:
            out.append(UNMAPPED)
            continue
        state, short = "in_stock" if left else "unknown", ()
        for sku, n in skus:
            have = left.get(sku)
            if have is None:
                if state == "in_stock":
                    state = "unknown"
            elif have < n:
                state, short = "out", (*short, sku)
            elif have < low_stock and state != "out":
                state = "low"
        if state != "out" and left and order.__dict__["status"] == _PAID:
            for sku, n in skus:
                if sku in left:
                    left[sku] -= n
        out.append((state, short))
    return out


def taken(batch: Sequence[Order], stocks: Sequence[StockState], inventory: Mapping[str, int],
          lines: Sequence[Expansion] | None = None) -> dict[str, int]:
    """The units of each SKU of ``inventory`` the batch draws, as ``stock_states`` drew
    them (``stocks`` is its answer): the paid orders served whole, none of the others."""
    out: dict[str, int] = {}
    if not inventory:
        return out
    for index, (order, (state, _)) in enumerate(zip(batch, stocks, strict=True)):
        if state == "out" or order.__dict__["status"] != _PAID:
            continue
        if lines is None:
            wanted: Any = ((i.sku, i.quantity) for i in order.items)
        else:
            wanted, unmapped = lines[index]
            if unmapped:
                continue
        for sku, n in wanted:
            if sku in inventory:
                out[sku] = out.get(sku, 0) + n
    return out


def _score(labels: tuple[str, str, str, str], t: Tables) -> Score:
    kind, tier, region, stock = labels
    if kind not in t.points[0]:
        kind = "default"
    if tier not in t.points[1]:
        tier = "default"
    total = round(t.points[0][kind] + t.points[1][tier] + t.points[2][region]
                  + t.points[3][stock], 6)
    lane = next((name for minimum, name in t.lanes if total >= minimum), "P3")
    raw = t.raw
    score = Score(total, {"order_type": raw[0][kind], "customer_tier": raw[1][tier],
                          "region": raw[2].get(region, raw[2]["default"]),
                          "inventory": raw[3][stock]}, lane, (kind, tier, region, stock))
    if len(t.scores) > 50_000:  # odd tiers from a marketplace must not grow it for ever
        t.scores.clear()
    t.scores[labels] = score
    return score


def score_order(order: Order, stock: str, t: Tables) -> Score:
    """The score of one order whose inventory state is ``stock``. Scores are shared
    between orders with the same labels: read their ``breakdown``, never change it."""
    fields = order.__dict__  # pydantic attributes are slow to read; the dict is not
    region = str(fields["delivery"])
    if region != "same_city" and region != "express":
        province = fields["receiver"].province
        region = "remote" if province in t.remote or province.startswith(
            t.remote_prefixes) else "default"
    labels = (str(fields["order_type"]), fields["buyer"].tier, region, stock)
    return t.scores.get(labels) or _score(labels, t)


def score_batch(batch: Sequence[Order], inventory: Mapping[str, int], ruleset: Any,
                lines: Sequence[Expansion] | None = None,
                stocks: Sequence[StockState] | None = None) -> list[Score]:
    """Score, breakdown and lane per order of ``batch``, in order (``lines`` and
    ``stocks`` as for ``stock_states``, whose answer ``stocks`` is when given)."""
    t = tables(ruleset)
    if stocks is None:
        stocks = stock_states(batch, inventory, t.low_stock, lines)
    return [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
