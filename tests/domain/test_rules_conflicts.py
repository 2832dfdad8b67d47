"""Conflict warnings (hub.domain.rules.conflicts): rules that can never fire, and rules
that overlap and set the same action differently, with their lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.rules import All, Any_, Leaf, Not, load_ruleset
from hub.domain.rules.conflicts import conflicts, implies, leaf_implies, never

HEAD = "version: 1\nname: t\n"


def test_a_shadowed_rule_is_flagged_with_its_line():
    rs = load_ruleset(HEAD + """rules:
  - id: douyin
    precedence: 10
    when: {field: channel, eq: douyin}
    then: {packing_group: douyin}
  - id: douyin-live-new
    precedence: 20
    when:
      all:
        - {field: channel, eq: douyin}
        - {field: source, eq: live_room}
    then: {packing_group: live-new-buyer}
""")
    [w] = conflicts(rs)
    assert (w.kind, w.rule_id, w.line, w.block, w.other_rule_id, w.other_line) == (
        "shadowed", "douyin-live-new", 8, 1, "douyin", 4)
    assert "can never fire" in w.reason and "line 4" in w.reason


def test_a_catch_all_above_shadows_every_rule_below_but_not_under_collect():
    text = HEAD + """rules:
  - {id: all, precedence: 1, then: {alert: ops}}
  - {id: jd, precedence: 2, when: {field: channel, eq: jd}, then: {lane: P1}}
"""
    assert [(w.kind, w.rule_id, w.line) for w in conflicts(load_ruleset(text))] == [
        ("shadowed", "jd", 5)]
    assert conflicts(load_ruleset(text.replace("name: t", "name: t\nhit_policy: collect"))) == []


def test_a_rule_that_can_never_hold_and_overlaps_are_reported():
    rs = load_ruleset(HEAD + """rules:
  - {id: none, precedence: 1, when: {all: [{field: channel, eq: jd},
                                           {field: channel, eq: tmall}]}, then: {lane: P0}}
  - {id: big, precedence: 2, when: {field: amounts.paid_fen, ge: 100000}, then: {lane: P0}}
  - {id: live, precedence: 3, when: {field: source, eq: live_room}, then: {lane: P2}}
  - {id: small, precedence: 4, when: {field: amounts.paid_fen, lt: 100000}, then: {lane: P3}}
""")
    found = [(w.kind, w.rule_id, w.other_rule_id) for w in conflicts(rs)]
    assert found == [("never", "none", None), ("overlap", "live", "big"),
                     ("overlap", "small", "live")]  # big and small are exclusive


def test_the_shipped_rules_warn_only_of_their_real_overlap():
    from hub.domain.rules import default_ruleset

    assert [(w.kind, w.rule_id) for w in conflicts(default_ruleset())] == [
        ("overlap", "vip-same-city-fast")]


def test_implication_is_conservative_and_knows_the_common_cases():
    jd, live = Leaf("channel", "eq", "jd"), Leaf("source", "eq", "live_room")
    assert implies(All((jd, live)), jd) and not implies(jd, All((jd, live)))
    assert implies(jd, Leaf("channel", "in", frozenset({"jd", "tmall"})))
    assert implies(jd, Leaf("channel", "ne", "tmall"))
    assert implies(Leaf("score", "gt", 80), Leaf("score", "ge", 60))
    assert not implies(Leaf("score", "ge", 60), Leaf("score", "gt", 80))
    assert implies(jd, Any_((jd, live))) and implies(Any_((jd, jd)), jd)
    assert implies(Not(Leaf("channel", "ne", "jd")), jd)
    assert not implies(Not(Leaf("score", "gt", 5)), Leaf("score", "le", 5))  # missing score
    assert implies(Leaf("buyer.tags", "contains", "x"), Leaf("buyer.tags", "exists", True))
    assert never(All((jd, Leaf("channel", "eq", "tmall"))))
    assert not never(jd)


CHANNELS = ("jd", "tmall", "douyin", None)
SCORES = (None, 0, 40, 59.5, 60, 80, 100)
leaves = st.one_of(
    st.builds(Leaf, st.just("channel"), st.sampled_from(["eq", "ne"]),
              st.sampled_from(CHANNELS[:3])),
    st.builds(Leaf, st.just("channel"), st.sampled_from(["in", "not_in"]),
              st.frozensets(st.sampled_from(CHANNELS[:3]), min_size=1)),
    st.builds(Leaf, st.just("channel"), st.just("exists"), st.booleans()),
    st.builds(Leaf, st.just("score"), st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]),
              st.sampled_from([0, 40, 60, 80])),
    st.builds(Leaf, st.just("score"), st.just("exists"), st.booleans()))
conds = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: All(tuple(xs))),
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: Any_(tuple(xs))),
    inner.map(Not)), max_leaves=6)


def holds(cond, facts) -> bool:
    from hub.domain.rules import Evaluator, Rule

    return bool(Evaluator((Rule("r", 1, cond, {"lane": "P0"}),), "first").evaluate_one(facts))


@settings(max_examples=400, deadline=None)
@given(conds, conds)
def test_what_is_proven_holds_on_every_order(a, b):
    worlds = [{"channel": c, "score": s} for c in CHANNELS for s in SCORES]
    if implies(a, b):
        assert all(holds(b, f) for f in worlds if holds(a, f))
    if never(a):
        assert not any(holds(a, f) for f in worlds)
    if isinstance(a, Leaf) and isinstance(b, Leaf) and leaf_implies(a, b):
        assert all(holds(b, f) for f in worlds if holds(a, f))
