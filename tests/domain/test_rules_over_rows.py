"""Rules compiled over (order, score, anomalies) rows fire exactly as over fact dicts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.domain import bench_ruleset
from hub.domain.anomalies import find_anomalies
from hub.domain.facts import ROWS, order_facts
from hub.domain.priority import score_batch
from hub.domain.rules import default_ruleset, load_ruleset
from tests.domain.test_adapters_properties import orders

RULESETS = {"default": default_ruleset(), "bench": bench_ruleset()}
COLLECT = load_ruleset(RULESETS["bench"].text.replace("hit_policy: first",
                                                      "hit_policy: collect"), "collect.yaml")
RULESETS["collect"] = COLLECT


@pytest.mark.parametrize("name", sorted(RULESETS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rules_over_rows_fire_as_over_facts(name, data):
    rules = RULESETS[name]
    batch = [data.draw(orders(data.draw(st.sampled_from(["tmall", "jd", "douyin"]))))
             for _ in range(data.draw(st.integers(1, 6)))]
    inventory = {i.sku: data.draw(st.integers(0, 30)) for o in batch for i in o.items}
    scores = score_batch(batch, inventory, rules)
    found = find_anomalies(batch, inventory, batch[:1], rules)
    facts = [order_facts(o, s.score, s.lane, tuple(a.code for a in f))
             for o, s, f in zip(batch, scores, found, strict=True)]
    by_facts = rules.evaluator.evaluate(facts)
    by_rows = rules.evaluator.over(ROWS)(batch, scores, found)
    assert [[h.rule_id for h in hits] for hits in by_rows] == \
        [[h.rule_id for h in hits] for hits in by_facts]


def test_the_collect_rule_set_is_what_it_says():
    assert COLLECT.hit_policy == "collect" and len(COLLECT.rules) == 9
