"""Routing: anomalies + priority + the rule set's routing rules -> one ``Decision`` per order.

Per order: the lane (the score's, unless a rule sets one), the packing group (a rule's, else
``lane-<lane>``), the anomalies, a hold (the first anomaly whose policy is ``hold``, most
severe first, else a rule's ``hold``), auto-remedies (remote region + standard delivery ->
the rule set's ``remote_remedy``: no hold), the delivery service, the groups to alert, the
rules that fired and the rule-set version. An anomaly whose policy is ``remedy`` but that
has no automatic remedy holds the order rather than let it through unchecked.

>>> from hub.domain.rules import default_ruleset
>>> from tests.factories import order
>>> d = decide([order(1, order_type="live_flash", delivery="same_city",
...                   buyer={"id": "b", "tier": "plus"})], {}, [], default_ruleset())[0]
>>> d.lane, d.packing_group, d.rules_fired, d.hold_reason
('P0', 'same-city', ('vip-same-city-fast',), None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain.anomalies import find_anomalies
from hub.domain.decision import Anomaly, Decision
from hub.domain.facts import order_facts
from hub.domain.order import Order
from hub.domain.priority import Score, score_order, stock_states, tables
from hub.domain.rules import merge_actions

SEVERITY_RANK = {"critical": 0, "warn": 1, "info": 2}
REMOTE = "remote_standard_express"


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


def route(batch: Sequence[Order], anomalies: Sequence[Sequence[Anomaly]],
          scores: Sequence[Score], rule_set: Any) -> list[Decision]:
    """Decisions from the checks' and the scorer's results (what the router actor joins)."""
    facts = [order_facts(o, s.score, s.lane, tuple(a.code for a in found) if found else ())
             for o, s, found in zip(batch, scores, anomalies, strict=True)]
    hits_per_order = rule_set.evaluator.evaluate(facts)
    collect = rule_set.hit_policy == "collect"
    policy, remedy = rule_set.anomalies, rule_set.remote_remedy
    version = rule_set.version
    out = []
    for order, s, found, hits in zip(batch, scores, anomalies, hits_per_order, strict=True):
        actions: Mapping[str, Any] = (merge_actions(hits) if collect else hits[0].actions) \
            if hits else {}
        lane = actions.get("lane") or s.lane
        delivery = str(order.delivery)
        hold = remedies = alerts = None
        extra = {"order_type": s.labels[0], "customer_tier": s.labels[1],
                 "region": s.labels[2], "inventory": s.labels[3]}
        if found:
            hold = _hold(found, policy)
            alerts = list(dict.fromkeys(a.group for a in found))
            for a in found:
                p = policy.get(a.code)
                if a.code == REMOTE and (p is None or p.action == "remedy"):
                    delivery = remedy.get("delivery", "express")
                    extra["carrier"] = remedy.get("carrier", "")
                    remedies = (f"delivery {order.delivery!s}->{delivery} via "
                                f"{extra['carrier'] or 'carrier'} (remote region "
                                f"{order.receiver.province})",)
        if hold is None and actions.get("hold"):
            hold = actions["hold"]
        if actions.get("delivery"):
            delivery = actions["delivery"]
        if actions.get("alert"):
            named = actions["alert"]
            alerts = (alerts or []) + [g for g in ((named,) if isinstance(named, str)
                                                   else named) if g not in (alerts or ())]
        extra["stage"] = "held" if hold else "auto_remedied" if remedies else "routed"
        out.append(Decision(
            str(order.channel), order.shop, order.order_id, order.modified_at.isoformat(),
            lane, s.score, s.breakdown, actions.get("packing_group") or f"lane-{lane}",
            tuple(found), hold, remedies or (), delivery, tuple(alerts) if alerts else (),
            tuple(h.rule_id for h in hits), version, extra))
    return out


def decide(batch: Sequence[Order], inventory: Mapping[str, int], recent_orders: Sequence[Order],
           rule_set: Any) -> list[Decision]:
    """One decision per order of ``batch``, in order. ``inventory`` is {sku: available}
    (SKUs missing are not checked), ``recent_orders`` the orders seen shortly before (for
    duplicates)."""
    batch = list(batch)
    t = tables(rule_set)
    stocks = stock_states(batch, inventory, t.low_stock)
    found = find_anomalies(batch, inventory, recent_orders, rule_set, stocks)
    scores = [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
    return route(batch, found, scores, rule_set)
