"""Routing: anomalies + priority + the rule set's routing rules -> one ``Decision`` per order.

Per order: the lane (the score's, unless a rule sets one), the packing group (a rule's, else
``lane-<lane>``), the anomalies, a hold (the first anomaly whose policy is ``hold``, most
severe first, else a rule's ``hold``), auto-remedies (remote region + standard delivery ->
the rule set's ``remote_remedy``: no hold), the delivery service, the groups to alert, the
rules that fired and the rule-set version. An anomaly whose policy is ``remedy`` but that
has no automatic remedy holds the order rather than let it through unchecked. With the
lines expanded by the catalogue, ``extra["skus"]`` records the merchant SKUs the order
ships (what its dispatch carries, ``catalogue.as_text``).

>>> from hub.domain.rules import default_ruleset
>>> from tests.factories import order
>>> d = decide([order(1, order_type="live_flash", delivery="same_city",
...                   buyer={"id": "b", "tier": "plus"})], {}, [], default_ruleset())[0]
>>> d.lane, d.packing_group, d.rules_fired, d.hold_reason
('P0', 'same-city', ('vip-same-city-fast',), None)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from hub.domain.anomalies import find_anomalies
from hub.domain.catalogue import Catalogue, Expansion, as_text, expand_batch
from hub.domain.decision import Anomaly, Decision, Stage
from hub.domain.facts import ROWS, FactsBuilder, facts_builder, version_of
from hub.domain.lifecycle import decision_stage
from hub.domain.order import Order
from hub.domain.priority import Score, score_order, stock_states, tables
from hub.domain.rules import merge_actions

SEVERITY_RANK = {"critical": 0, "warn": 1, "info": 2}
REMOTE = "remote_standard_express"
# Decision.extra holds plain strings (it is dict[str, str]); these are the stage values
HELD, ROUTED = Stage.HELD.value, Stage.ROUTED.value




def _fields(cond: Any) -> Iterator[str]:
    if hasattr(cond, "field"):
        yield cond.field
    for item in getattr(cond, "items", ()):
        yield from _fields(item)
    if hasattr(cond, "item"):
        yield from _fields(cond.item)


_BUILDERS: dict[int, tuple[tuple, FactsBuilder]] = {}


def facts_for(rule_set: Any) -> FactsBuilder:
    """The facts builder for the facts ``rule_set``'s rules name (memoised per rule set)."""
    rules = rule_set.rules
    cached = _BUILDERS.get(id(rule_set))
    if cached is None or cached[0] is not rules:
        cached = _BUILDERS[id(rule_set)] = (rules, facts_builder(
            name for rule in rules for name in _fields(rule.when)))
    return cached[1]


def _hold(anomalies: Sequence[Anomaly], policy: Mapping[str, Any]) -> str | None:
    """The code of the first holding anomaly, most severe first (then detection order)."""
    holding = []
    for a in anomalies:
        p = policy.get(a.code)
        action = p.action if p else "hold"
        if action == "hold" or (action == "remedy" and a.code != REMOTE):
            holding.append(a)
    if not holding:
        return None
    return min(holding, key=lambda a: SEVERITY_RANK.get(a.severity, 1)).code


def _effects(hits: Sequence[Any], collect: bool) -> tuple:
    """(lane, packing group, hold, delivery, alert groups, rule ids) the hits set; None
    where no rule sets it."""
    actions = merge_actions(hits) if collect else hits[0].actions
    alert = actions.get("alert") or ()
    return (actions.get("lane"), actions.get("packing_group"), actions.get("hold"),
            actions.get("delivery"), (alert,) if isinstance(alert, str) else tuple(alert),
            tuple(h.rule_id for h in hits))


def _outcome(order: Order, s: Score, found: Sequence[Anomaly], effects: tuple,
             rule_set: Any) -> tuple:
    """(hold, remedies, delivery, alert groups, extra) of an order with anomalies."""
    policy = rule_set.anomalies
    hold, remedies, delivery = _hold(found, policy), (), str(order.delivery)
    alerts, extra = list(dict.fromkeys(a.group for a in found)), {}
    for a in found:
        p = policy.get(a.code)
        if a.code == REMOTE and (p is None or p.action == "remedy"):
            remedy = rule_set.remote_remedy
            delivery = remedy.get("delivery", "express")
            extra["carrier"] = carrier = remedy.get("carrier", "")
            remedies = (f"delivery {order.delivery!s}->{delivery} via {carrier or 'carrier'}"
                        f" (remote region {order.receiver.province})",)
    hold = hold or effects[2]
    alerts += [g for g in effects[4] if g not in alerts]
    extra["stage"] = decision_stage(hold, remedies).value
    return hold, remedies, effects[3] or delivery, tuple(alerts), extra


NO_HITS = (None, None, None, None, (), ())
LANE_GROUP = {lane: f"lane-{lane}" for lane in ("P0", "P1", "P2", "P3")}


def _effects_per_order(hits_per_order: Iterable[Sequence[Any]], collect: bool) -> Iterator[tuple]:
    """Per order, the effects (``_effects``) its hits set, ``NO_HITS`` where none fired;
    orders hit by the same rules share one tuple."""
    memo: dict[tuple[int, ...], tuple] = {}
    for hits in hits_per_order:
        if hits:
            key = tuple(map(id, hits))
            yield memo.get(key) or memo.setdefault(key, _effects(hits, collect))
        else:
            yield NO_HITS


def route(batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
          scores: Sequence[Score], rule_set: Any,
          lines: Sequence[Expansion] | None = None) -> list[Decision]:
    """Decisions from the checks' and the scorer's results (what the router actor joins).
    The rules run straight over the orders (``facts.ROWS``): a fact is computed only when
    a rule's test reaches it, as if from ``facts.order_facts``. ``lines``: each order's
    merchant SKUs (``catalogue.expand_batch``), kept in the decision."""
    hits_per_order = rule_set.evaluator.over(ROWS)(batch, scores, anomalies)
    effects_per_order = _effects_per_order(hits_per_order, rule_set.hit_policy == "collect")
    version = rule_set.version
    out = []
    append = out.append
    expanded = (None,) * len(batch) if lines is None else lines
    for order, s, found, effects, merchant in zip(batch, scores, anomalies, effects_per_order,
                                                   expanded, strict=True):
        lane = effects[0] or s.lane
        group = effects[1] or LANE_GROUP[lane]
        fields = order.__dict__  # pydantic attributes are slow to read; the dict is not
        if found:
            hold, remedies, delivery, alerts, extra = _outcome(order, s, found, effects,
                                                               rule_set)
            found = tuple(found)
        else:
            hold, remedies, alerts, found = effects[2], (), effects[4], ()
            delivery = effects[3] or str(fields["delivery"])
            extra = {"stage": HELD if hold else ROUTED}
        if merchant is not None and merchant[0] and not merchant[1]:
            extra["skus"] = as_text(merchant[0])
        append(Decision(
            str(fields["channel"]), fields["shop"], fields["order_id"],
            version_of(fields["modified_at"]), lane, s.score, s.breakdown, group, found, hold,
            remedies, delivery, alerts, effects[5], version, extra))
    return out


def decide(batch: Sequence[Order], inventory: Mapping[str, int], recent_orders: Sequence[Order],
           rule_set: Any, catalogue: Catalogue | None = None) -> list[Decision]:
    """One decision per order of ``batch``, in order. ``inventory`` is {sku: available}
    (SKUs missing are not checked), ``recent_orders`` the orders seen shortly before (for
    duplicates). With a ``catalogue`` the lines are expanded to merchant SKUs first and
    ``inventory`` counts merchant SKUs (one stock for every channel)."""
    batch = list(batch)
    t = tables(rule_set)
    lines = expand_batch(batch, catalogue)
    stocks = stock_states(batch, inventory, t.low_stock, lines)
    found = find_anomalies(batch, inventory, recent_orders, rule_set, stocks, lines)
    scores = [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
    return route(batch, found, scores, rule_set, lines)


Outcome = tuple[str, str, str | None, tuple[str, ...]]  # lane, packing group, hold, rules


def outcomes(batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
             scores: Sequence[Score], rule_set: Any,
             hits: Sequence[Sequence[Any]] | None = None) -> list[Outcome]:
    """Per order, the lane, packing group, hold and rules fired that ``route`` would
    decide, without building the decisions: what a shadow run compares (issue #22).
    ``hits``: the rules' hits per order when known already (``rules.beside``)."""
    hits_per_order = hits if hits is not None else rule_set.evaluator.over(ROWS)(
        batch, scores, anomalies)
    effects_per_order = _effects_per_order(hits_per_order, rule_set.hit_policy == "collect")
    policy = rule_set.anomalies
    out: list[Outcome] = []
    append = out.append
    for s, found, effects in zip(scores, anomalies, effects_per_order, strict=True):
        lane = effects[0] or s.lane
        hold = (_hold(found, policy) if found else None) or effects[2]
        append((lane, effects[1] or LANE_GROUP[lane], hold, effects[5]))
    return out
