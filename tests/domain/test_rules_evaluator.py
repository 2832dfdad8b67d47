"""The compiled evaluator: operators, hit policies, and the case's example rule."""

from __future__ import annotations

import pytest

from hub.domain.rules import Hit, default_ruleset, load_ruleset, merge_actions

HEAD = "version: 2\nname: test\n"


def case_facts(**changes) -> dict:
    """Facts of a Douyin live-room order from a new buyer (PLUS member, same-city)."""
    facts = {
        "channel": "douyin", "shop": "s1", "order_id": "6921", "status": "paid",
        "order_type": "live_flash", "source": "live_room", "source_detail": "room-88",
        "delivery": "standard", "warehouse_hint": "", "buyer.id": "b1", "buyer.tier": "normal",
        "buyer.tags": ("new_first_order",), "receiver.province": "浙江省",
        "receiver.city": "杭州市", "receiver.district": "西湖区", "amounts.total_fen": 19900,
        "amounts.paid_fen": 19900, "amounts.discount_fen": 0, "amounts.freight_fen": 0,
        "items.count": 1, "items.quantity": 1, "items.skus": ("LAMP-1",), "score": 62.0,
        "lane": "P1", "anomalies": (), "hour": 20,
    }
    facts.update(changes)
    return facts


def ids(hits_per_order: list[list[Hit]]) -> list[list[str]]:
    return [[h.rule_id for h in hits] for hits in hits_per_order]


def test_case_example_rule_fires_on_a_douyin_live_room_new_buyer_order():
    ev = default_ruleset().evaluator
    orders = [
        case_facts(),
        case_facts(source="search"),
        case_facts(channel="tmall"),
        case_facts(**{"buyer.tags": ("repeat",)}),
        case_facts(**{"buyer.tags": ()}),
    ]
    hits = ev.evaluate(orders)
    assert ids(hits) == [["douyin-live-new-buyer"], [], [], [], []]
    assert hits[0][0].actions == {"packing_group": "live-new-buyer"}


def test_vip_same_city_rule_of_the_default_set():
    ev = default_ruleset().evaluator
    plus = case_facts(delivery="same_city", **{"buyer.tier": "plus", "buyer.tags": ()})
    hits = ev.evaluate([plus, dict(plus, delivery="express")])
    assert ids(hits) == [["vip-same-city-fast"], []]
    assert hits[0][0].actions == {"lane": "P0", "packing_group": "same-city"}


RULES = """\
rules:
  - {id: big, precedence: 30, when: {field: amounts.paid_fen, ge: 100000}, then: {alert: fin}}
  - {id: jd, precedence: 20, when: {field: channel, eq: jd}, then: {lane: P1, alert: ops}}
  - {id: jd-big, precedence: 10, when: {all: [{field: channel, eq: jd},
        {field: amounts.paid_fen, gt: 50000}]}, then: {lane: P0, packing_group: big}}
"""


@pytest.mark.parametrize("policy", ["first", "collect"])
def test_hit_policies(policy):
    ev = load_ruleset(HEAD + f"hit_policy: {policy}\n" + RULES).evaluator
    orders = [
        {"channel": "jd", "amounts.paid_fen": 200000},
        {"channel": "jd", "amounts.paid_fen": 60000},
        {"channel": "jd", "amounts.paid_fen": 100},
        {"channel": "tmall", "amounts.paid_fen": 100000},
        {"channel": "tmall"},
    ]
    got = ids(ev.evaluate(orders))
    if policy == "first":
        assert got == [["jd-big"], ["jd-big"], ["jd"], ["big"], []]
    else:
        assert got == [["jd-big", "jd", "big"], ["jd-big", "jd"], ["jd"], ["big"], []]


def test_collect_merge_keeps_earlier_actions_and_unions_alerts():
    ev = load_ruleset(HEAD + "hit_policy: collect\n" + RULES).evaluator
    hits = ev.evaluate_one({"channel": "jd", "amounts.paid_fen": 200000})
    assert merge_actions(hits) == {"lane": "P0", "packing_group": "big", "alert": ("ops", "fin")}
    assert merge_actions([]) == {}


OPS = """\
hit_policy: collect
rules:
  - {id: eq, precedence: 1, when: {field: buyer.tier, eq: vip}, then: {alert: a}}
  - {id: ne, precedence: 2, when: {field: buyer.tier, ne: vip}, then: {alert: a}}
  - {id: in, precedence: 3, when: {field: status, in: [paid, shipped]}, then: {alert: a}}
  - {id: not_in, precedence: 4, when: {field: status, not_in: [paid]}, then: {alert: a}}
  - {id: gt, precedence: 5, when: {field: score, gt: 50}, then: {alert: a}}
  - {id: ge, precedence: 6, when: {field: score, ge: 50}, then: {alert: a}}
  - {id: lt, precedence: 7, when: {field: score, lt: 50}, then: {alert: a}}
  - {id: le, precedence: 8, when: {field: score, le: 50}, then: {alert: a}}
  - {id: tag, precedence: 9, when: {field: buyer.tags, contains: vip_day}, then: {alert: a}}
  - {id: text, precedence: 10, when: {field: receiver.city, contains: 州}, then: {alert: a}}
  - {id: has, precedence: 11, when: {field: source_detail, exists: true}, then: {alert: a}}
  - {id: hasnt, precedence: 12, when: {field: score, exists: false}, then: {alert: a}}
  - {id: any, precedence: 13, when: {any: [{field: hour, lt: 6}, {field: hour, ge: 22}]},
     then: {alert: a}}
  - {id: not, precedence: 14, when: {not: {field: anomalies, contains: duplicate_order}},
     then: {alert: a}}
  - {id: always, precedence: 15, then: {alert: a}}
"""


@pytest.mark.parametrize("facts, expected", [
    ({"buyer.tier": "vip", "status": "paid", "score": 50, "buyer.tags": ("vip_day",),
      "receiver.city": "杭州市", "source_detail": "r1", "hour": 23,
      "anomalies": ("duplicate_order",)},
     ["eq", "in", "ge", "le", "tag", "text", "has", "any", "always"]),
    ({"buyer.tier": "plus", "status": "shipped", "score": 50.5, "receiver.city": "北京市",
      "source_detail": "", "hour": 12, "anomalies": ()},
     ["ne", "in", "not_in", "gt", "ge", "not", "always"]),
    ({}, ["ne", "not_in", "hasnt", "not", "always"]),
    ({"score": None, "hour": None, "buyer.tags": None, "receiver.city": None},
     ["ne", "not_in", "hasnt", "not", "always"]),
    ({"score": 10, "hour": 5}, ["ne", "not_in", "lt", "le", "any", "not", "always"]),
])
def test_each_operator(facts, expected):
    ev = load_ruleset(HEAD + OPS).evaluator
    assert ids(ev.evaluate([facts])) == [expected]


def test_batch_order_is_kept_and_hit_lists_are_fresh():
    ev = load_ruleset(HEAD + RULES).evaluator
    batch = [{"channel": "jd", "amounts.paid_fen": n} for n in range(0, 200000, 1000)]
    out = ev.evaluate(batch)
    assert len(out) == len(batch)
    assert ids(out) == [["jd-big"] if f["amounts.paid_fen"] > 50000 else ["jd"] for f in batch]
    out[0].append("x")  # a caller changing one order's hit list must not touch another's
    assert ev.evaluate(batch[:1]) == [[out[1][0]]]
    assert ev.evaluate([]) == []


def test_empty_rule_list_hits_nothing():
    ev = load_ruleset(HEAD + "rules: []\n").evaluator
    assert ev.evaluate([{"channel": "jd"}, {}]) == [[], []]


def test_evaluator_is_compiled_once_and_cached():
    rs = load_ruleset(HEAD + RULES)
    assert rs.evaluator is rs.evaluator
    assert "def evaluate_batch(facts):" in rs.evaluator.source
