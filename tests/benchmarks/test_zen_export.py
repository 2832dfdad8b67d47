"""Our evaluator and zen-engine give the same hits on the same decision table."""

from __future__ import annotations

import random

import pytest

from benchmarks.zen_export import nest_facts, to_zen_decision_table, zen_evaluate
from hub.domain.rules import FACT_KINDS, default_ruleset, load_ruleset

pytest.importorskip("zen")

ROUTING = """\
version: 5
name: routing-bench
hit_policy: {policy}
rules:
  - id: douyin-live-new-buyer
    precedence: 10
    when: {{all: [{{field: channel, eq: douyin}}, {{field: source, eq: live_room}},
                 {{field: buyer.tags, contains: new_first_order}}]}}
    then: {{packing_group: live-new-buyer}}
  - id: vip-same-city
    precedence: 20
    when: {{all: [{{field: delivery, eq: same_city}}, {{field: buyer.tier, in: [plus, svip]}}]}}
    then: {{lane: P0, packing_group: same-city}}
  - id: presale-night
    precedence: 30
    when: {{all: [{{field: order_type, eq: presale_final}},
                 {{any: [{{field: hour, lt: 6}}, {{field: hour, ge: 22}}]}}]}}
    then: {{lane: P1}}
  - id: big-paid
    precedence: 40
    when: {{all: [{{field: amounts.paid_fen, ge: 500000}}, {{field: status, ne: cancelled}}]}}
    then: {{alert: finance}}
  - id: not-duplicate-remote
    precedence: 50
    when: {{all: [{{field: receiver.province, in: [新疆, 西藏, 青海]}},
                 {{not: {{field: anomalies, contains: duplicate_order}}}}]}}
    then: {{delivery: express}}
  - id: many-items
    precedence: 60
    when: {{all: [{{field: items.quantity, gt: 5}}, {{field: items.count, le: 3}},
                 {{field: channel, not_in: [jd]}}]}}
    then: {{packing_group: bulk}}
  - id: no-detail
    precedence: 70
    when: {{all: [{{field: source_detail, exists: false}}, {{field: score, exists: true}}]}}
    then: {{alert: ops}}
  - id: hangzhou
    precedence: 80
    when: {{field: receiver.city, contains: 杭州}}
    then: {{packing_group: hz}}
  - id: low-score
    precedence: 90
    when: {{any: [{{field: score, lt: 30.5}}, {{field: lane, eq: P3}}]}}
    then: {{lane: P3}}
"""

DOMAINS = {
    "channel": ["tmall", "jd", "douyin"], "shop": ["s1", "s2"], "order_id": ["1", "2"],
    "status": ["paid", "shipped", "cancelled"], "order_type": ["normal", "presale_final",
                                                                "live_flash"],
    "source": ["live_room", "search", ""], "source_detail": ["", "room-1"],
    "delivery": ["standard", "express", "same_city"], "warehouse_hint": ["", "hz"],
    "buyer.id": ["b1"], "buyer.tier": ["plus", "svip", "vip", "normal"],
    "receiver.province": ["新疆", "西藏", "浙江省", "北京市"],
    "receiver.city": ["杭州市", "北京市", "乌鲁木齐市"], "receiver.district": ["西湖区"],
    "lane": ["P0", "P1", "P2", "P3"],
}
TAGS = {"buyer.tags": ["new_first_order", "vip_day"], "items.skus": ["A", "B"],
        "anomalies": ["duplicate_order", "invalid_phone"]}
NUMBERS = {"amounts.paid_fen": [0, 100, 500000, 800000], "hour": [0, 5, 6, 12, 22, 23],
           "items.quantity": [1, 5, 6, 9], "items.count": [1, 3, 4], "score": [0.0, 30.5, 31, 96]}


def random_facts(rng: random.Random) -> dict:
    facts: dict = {}
    for name, kind in FACT_KINDS.items():
        roll = rng.random()
        if roll < 0.05:
            continue  # missing fact
        if roll < 0.10:
            facts[name] = None
        elif kind == "tags":
            pool = TAGS.get(name, ["x"])
            facts[name] = tuple(rng.sample(pool, rng.randint(0, len(pool))))
        elif kind == "number":
            facts[name] = rng.choice(NUMBERS.get(name, [0, 1, 2]))
        else:
            facts[name] = rng.choice(DOMAINS[name])
    return facts


@pytest.mark.parametrize("policy", ["first", "collect"])
def test_same_hits_as_zen_on_generated_orders(policy):
    rs = load_ruleset(ROUTING.format(policy=policy))
    rng = random.Random(20251111)
    facts = [random_facts(rng) for _ in range(400)]
    ours = [[h.rule_id for h in hits] for hits in rs.evaluator.evaluate(facts)]
    theirs = zen_evaluate(rs, facts)
    assert ours == theirs
    fired = {rule for hits in ours for rule in hits}
    assert fired == {r.id for r in rs.rules}, "every rule should fire on some generated order"


def test_same_hits_as_zen_with_the_default_rules():
    rs = default_ruleset()
    rng = random.Random(7)
    facts = [random_facts(rng) for _ in range(300)]
    facts += [dict(f, channel="douyin", source="live_room", **{"buyer.tags": ("new_first_order",)})
              for f in facts[:20]]
    ours = [[h.rule_id for h in hits] for hits in rs.evaluator.evaluate(facts)]
    assert ours == zen_evaluate(rs, facts)
    assert sum(1 for hits in ours if hits == ["douyin-live-new-buyer"]) >= 20


def test_decision_table_shape():
    rs = load_ruleset(ROUTING.format(policy="first"))
    graph = to_zen_decision_table(rs)
    assert [n["type"] for n in graph["nodes"]] == ["inputNode", "decisionTableNode", "outputNode"]
    table = graph["nodes"][1]["content"]
    assert table["hitPolicy"] == "first"
    assert [row["rule"] for row in table["rules"]] == [f'"{r.id}"' for r in rs.rules]
    fields = [col["field"] for col in table["inputs"]]
    assert fields[:3] == ["channel", "source", "buyer.tags"]
    first = table["rules"][0]
    assert first[table["inputs"][0]["id"]] == '"douyin"'
    assert first["out_packing_group"] == '"live-new-buyer"'


def test_nest_facts():
    assert nest_facts({"channel": "jd", "buyer.tags": ("a",), "buyer.tier": "vip"}) == {
        "channel": "jd", "buyer": {"tags": ["a"], "tier": "vip"}}
