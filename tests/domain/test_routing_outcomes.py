"""``routing.outcomes`` (what a shadow run compares) agrees with ``routing.route``."""

from __future__ import annotations

import pytest

from hub.domain.anomalies import find_anomalies
from hub.domain.priority import score_order, stock_states, tables
from hub.domain.routing import outcomes, route
from hub.domain.rules import default_ruleset, load_ruleset
from tests.app.shadow_cases import candidate_text, mixed_orders
from tests.factories import order


@pytest.mark.parametrize("text", [default_ruleset().text, candidate_text(),
                                  candidate_text().replace("hit_policy: first",
                                                           "hit_policy: collect")])
def test_outcomes_are_routes_lane_group_hold_and_rules(text):
    rules = load_ruleset(text)
    orders, _, _ = mixed_orders()
    orders += [order(900 + i, receiver=orders[0].receiver.model_copy(update={"district": ""}))
               for i in range(3)]  # held: incomplete address
    t = tables(rules)
    stocks = stock_states(orders, {}, t.low_stock)
    found = find_anomalies(orders, {}, [], rules, stocks)
    scores = [score_order(o, s[0], t) for o, s in zip(orders, stocks, strict=True)]
    decided = route(orders, found, scores, rules)
    assert outcomes(orders, found, scores, rules) == [
        (d.lane, d.packing_group, d.hold_reason, d.rules_fired) for d in decided]
    assert any(d.hold_reason for d in decided)
