"""A candidate's hits computed beside the live ones (hub.domain.rules.beside) are the
hits it finds on its own, for generated live rule sets and candidates made from them."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hub.domain.anomalies import find_anomalies
from hub.domain.facts import ROWS
from hub.domain.priority import score_order, stock_states, tables
from hub.domain.rules import RuleError, default_ruleset, load_ruleset
from hub.domain.rules.beside import compile_beside, known
from tests.app.shadow_cases import mixed_orders
from tests.domain.rule_files import actions, conditions, dump, rule_ids, rules
from tests.factories import order


def _batch():
    orders, _, _ = mixed_orders()
    orders += [order(700 + i, receiver=orders[0].receiver.model_copy(update={"district": ""}),
                     order_type=("live_flash", "presale_final", "gift")[i % 3],
                     delivery=("express", "same_city", "standard")[i % 3])
               for i in range(6)]
    rules = default_ruleset()
    t = tables(rules)
    stocks = stock_states(orders, {}, t.low_stock)
    found = find_anomalies(orders, {}, [], rules, stocks)
    return orders, found, [score_order(o, s[0], t) for o, s in zip(orders, stocks, strict=True)]


BATCH, FOUND, SCORES = _batch()


@st.composite
def live_and_candidate(draw):
    live = draw(rules())
    kept = draw(st.lists(st.sampled_from(live), unique_by=lambda r: r["id"])) if live else []
    kept = [dict(r) for r in kept]
    for rule in kept:
        if draw(st.booleans()):
            rule["then"] = draw(actions)
        rule["precedence"] = draw(st.integers(0, 40))
    for new_id in draw(st.lists(rule_ids, max_size=3, unique=True)):
        if new_id not in {r["id"] for r in kept}:
            kept.append({"id": new_id, "precedence": draw(st.integers(0, 40)),
                         "when": draw(conditions), "then": draw(actions)})
    policies = st.sampled_from(["first", "collect"])
    texts = [dump({"version": 1, "name": "x", "hit_policy": draw(policies), "rules": rs},
                  "json") for rs in (live, kept)]
    try:
        return tuple(load_ruleset(text) for text in texts)
    except RuleError:
        assume(False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(live_and_candidate())
def test_hits_beside_the_live_ones_are_the_candidates_own(pair):
    live, candidate = pair
    live_hits = live.evaluator.over(ROWS)(BATCH, SCORES, FOUND)
    fired = [tuple(h.rule_id for h in hits) for hits in live_hits]
    beside = compile_beside(live, candidate, ROWS)(BATCH, SCORES, FOUND, known(live, fired))
    alone = candidate.evaluator.over(ROWS)(BATCH, SCORES, FOUND)
    assert [[h.rule_id for h in hs] for hs in beside] == [[h.rule_id for h in hs]
                                                         for hs in alone]
    assert [[h.actions for h in hs] for hs in beside] == [[h.actions for h in hs]
                                                         for hs in alone]
