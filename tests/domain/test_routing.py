"""decide(): lanes, packing groups, holds, auto-remedies and the rules that fired."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain.anomalies import find_anomalies
from hub.domain.decision import Decision, Stage
from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver
from hub.domain.priority import score_batch
from hub.domain.routing import decide, route
from hub.domain.rules import default_ruleset, load_ruleset
from tests.factories import order

RULES = default_ruleset()
CLEAN = order(1)


def receiver(**changes) -> Receiver:
    return CLEAN.receiver.model_copy(update=changes)


def one(o, inventory=None, recent=(), rules=RULES) -> Decision:
    return decide([o], inventory or {}, list(recent), rules)[0]


def test_case_live_stream_plus_member_same_city_is_p0():
    o = order(1, channel="douyin", order_type="live_flash", source="live_room",
              delivery="same_city", buyer=Buyer(id="b1", tier="plus"))
    d = one(o, {"SKU-1": 500})
    assert d.lane == "P0" and d.score == 96
    assert d.hold_reason is None and d.anomalies == ()
    assert d.ruleset_version == RULES.version
    assert d.version == o.modified_at.isoformat()


def test_case_douyin_live_room_new_first_order_buyer_gets_the_dedicated_packing_group():
    o = order(1, channel="douyin", source="live_room", source_detail="room-88",
              order_type="live_flash", buyer=Buyer(id="b1", tags=("new_first_order",)))
    d = one(o)
    assert d.packing_group == "live-new-buyer"
    assert d.rules_fired == ("douyin-live-new-buyer",)
    assert one(o.model_copy(update={"channel": "tmall"})).packing_group == f"lane-{d.lane}"
    plain = o.model_copy(update={"buyer": Buyer(id="b1", tags=("repeat",))})
    assert one(plain).rules_fired == ()


def test_without_a_rule_the_packing_group_follows_the_lane():
    d = one(CLEAN)
    assert d.rules_fired == () and d.packing_group == f"lane-{d.lane}"


def test_remote_standard_is_auto_remedied_not_held_and_the_decision_says_so():
    o = order(1, receiver=receiver(province="新疆维吾尔自治区", city="乌鲁木齐市",
                                   district="天山区"))
    d = one(o)
    assert [a.code for a in d.anomalies] == ["remote_standard_express"]
    assert d.hold_reason is None and not d.held
    assert d.delivery == "express"
    assert d.remedies and "standard->express" in d.remedies[0] and "EMS" in d.remedies[0]
    assert d.extra["stage"] == Stage.AUTO_REMEDIED and d.extra["carrier"] == "EMS"
    assert d.alert_groups == ("logistics",)


def test_remote_standard_held_when_the_rule_set_says_hold():
    rules = load_ruleset("version: 2\nname: t\nanomalies:\n  remote_standard_express: "
                         "{severity: warn, group: logistics, action: hold}\n")
    o = order(1, receiver=receiver(province="西藏", city="拉萨市", district="城关区"))
    d = one(o, rules=rules)
    assert d.hold_reason == "remote_standard_express" and d.remedies == ()
    assert d.delivery == "standard"


def test_the_most_severe_holding_anomaly_is_the_hold_reason():
    o = order(1, receiver=receiver(phone="1"), amounts=Amounts(total_fen=19900, paid_fen=1))
    d = one(o)
    assert [a.code for a in d.anomalies] == ["payment_mismatch", "invalid_phone"]
    assert d.hold_reason == "payment_mismatch"  # critical before warn
    assert d.extra["stage"] == Stage.HELD
    assert d.alert_groups == ("finance", "cs-address")


def test_an_alert_only_anomaly_does_not_hold():
    rules = load_ruleset("version: 2\nname: t\nanomalies:\n  invalid_phone: "
                         "{severity: warn, group: cs-address, action: alert}\n")
    d = one(order(1, receiver=receiver(phone="1")), rules=rules)
    assert d.hold_reason is None and d.alert_groups == ("cs-address",)


RULE_FILE = """\
version: 7
name: t
hit_policy: {policy}
rules:
  - id: big
    precedence: 10
    when: {{field: amounts.paid_fen, ge: 100000}}
    then: {{hold: rule_hold, alert: finance-review}}
  - id: bulk
    precedence: 20
    when: {{field: items.quantity, ge: 3}}
    then: {{lane: P1, packing_group: bulk, delivery: express, alert: ops}}
"""


def test_rule_actions_hold_alert_lane_and_delivery():
    items = (Item(sku="A", quantity=20, price_fen=9900),)
    o = order(1, items=items)
    first = one(o, rules=load_ruleset(RULE_FILE.format(policy="first")))
    assert first.rules_fired == ("big",) and first.hold_reason == "rule_hold"
    assert first.alert_groups == ("finance-review",) and first.lane != "P1"
    both = one(o, rules=load_ruleset(RULE_FILE.format(policy="collect")))
    assert both.rules_fired == ("big", "bulk") and both.ruleset_version == 7
    assert (both.lane, both.packing_group, both.delivery) == ("P1", "bulk", "express")
    assert both.alert_groups == ("finance-review", "ops")


def test_route_joins_separately_computed_checks_and_scores():
    batch = [CLEAN, order(2, receiver=receiver(phone="1"))]
    split = route(batch, find_anomalies(batch, {}, [], RULES),
                  score_batch(batch, {}, RULES), RULES)
    assert split == decide(batch, {}, [], RULES)


def test_rules_can_see_the_anomalies_and_the_score():
    rules = load_ruleset("version: 2\nname: t\nrules:\n  - id: bad-phone-vip\n"
                         "    precedence: 1\n"
                         "    when: {all: [{field: anomalies, contains: invalid_phone},"
                         " {field: score, lt: 50}]}\n"
                         "    then: {packing_group: phone-check}\n")
    assert one(order(1, receiver=receiver(phone="1")), rules=rules).packing_group == "phone-check"
    assert one(CLEAN, rules=rules).packing_group.startswith("lane-")


def test_decisions_round_trip_through_dicts():
    d = one(order(1, receiver=receiver(phone="1")))
    assert Decision.from_dict(d.to_dict()) == d


# -- property: any valid batch gets one decision per order, in order, never an exception --

TEXT = st.text(max_size=12)
PROVINCES = st.sampled_from(["浙江省", "新疆", "北京", "西藏自治区", "火星", "", "上海市"])
CITIES = st.sampled_from(["杭州市", "北京市", "乌鲁木齐", "拉萨市", "", "上海市", "市辖区"])
TIMES = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                     timezones=st.just(SHANGHAI))


@st.composite
def orders(draw, n: int) -> Order:
    created = draw(TIMES)
    items = draw(st.lists(st.builds(Item, sku=st.sampled_from(["A", "B", "C", "D"]),
                                    quantity=st.integers(1, 9),
                                    price_fen=st.integers(0, 10**6)), min_size=1, max_size=4))
    return Order(
        channel=draw(st.sampled_from(["tmall", "jd", "douyin"])), shop="s",
        order_id=f"o{n}-{draw(st.integers(0, 3))}",
        status=draw(st.sampled_from(["unpaid", "paid", "partially_shipped", "shipped",
                                     "finished", "cancelled"])),
        created_at=created, modified_at=created + timedelta(seconds=draw(st.integers(0, 999))),
        buyer=Buyer(id=draw(st.sampled_from(["b1", "b2"])),
                    tier=draw(st.sampled_from(["plus", "vip", "normal", "x", ""])),
                    tags=tuple(draw(st.lists(st.sampled_from(["new_first_order", "t"]))))),
        receiver=Receiver(phone=draw(st.one_of(TEXT, st.just("13812345678"))),
                          province=draw(PROVINCES), city=draw(CITIES),
                          district=draw(st.sampled_from(["", "西湖区", " "])),
                          street=draw(TEXT), detail=draw(TEXT)),
        items=tuple(items),
        amounts=Amounts(total_fen=draw(st.integers(0, 10**7)),
                        discount_fen=draw(st.integers(0, 10**5)),
                        freight_fen=draw(st.integers(0, 10**4)),
                        paid_fen=draw(st.integers(0, 10**7))),
        order_type=draw(st.sampled_from(["normal", "presale_deposit", "presale_final",
                                         "live_flash", "gift"])),
        source=draw(st.sampled_from(["", "live_room", "search"])),
        delivery=draw(st.sampled_from(["standard", "express", "same_city"])),
    )


@st.composite
def batches(draw) -> list[Order]:
    return [draw(orders(n)) for n in range(draw(st.integers(0, 12)))]


COLLECT = load_ruleset(RULE_FILE.format(policy="collect"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches(), recent=batches(),
       inventory=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(-5, 30)),
       collect=st.booleans())
def test_decide_never_raises_and_answers_every_order_in_order(batch, recent, inventory,
                                                              collect):
    rules = COLLECT if collect else RULES
    decisions = decide(batch, inventory, recent, rules)
    assert [d.key for d in decisions] == [o.key for o in batch]
    for o, d in zip(batch, decisions, strict=True):
        assert d.lane in ("P0", "P1", "P2", "P3") and 0 <= d.score <= 100
        assert d.version == o.modified_at.isoformat()
        assert d.packing_group
        assert d.hold_reason is None or d.hold_reason in {a.code for a in d.anomalies} | {
            "rule_hold"}


def test_a_decision_round_trips_through_its_dict_and_pickle():
    import pickle

    d = one(order(1, receiver=receiver(phone="1")))
    fields = d.to_dict()
    assert fields["anomalies"] == ({"code": "invalid_phone", "severity": d.anomalies[0].severity,
                                    "group": d.anomalies[0].group,
                                    "detail": d.anomalies[0].detail},)
    assert list(fields) == ["channel", "shop", "order_id", "version", "lane", "score",
                            "breakdown", "packing_group", "anomalies", "hold_reason",
                            "remedies", "delivery", "alert_groups", "rules_fired",
                            "ruleset_version", "extra"]
    assert fields["breakdown"] == d.breakdown and fields["breakdown"] is not d.breakdown
    assert Decision.from_dict(fields) == d == pickle.loads(pickle.dumps(d))
    fields["anomalies"] = d.anomalies
    assert Decision(**fields) == d and Decision(*fields.values()) == d
    assert Decision("c", "s", "1", "v", "P3", 0.0, {}, "g").extra == {}


def test_rules_see_the_same_facts_as_the_full_facts_dict():
    from hub.domain.facts import order_facts
    from hub.domain.routing import facts_for

    rules = load_ruleset(RULE_FILE.format(policy="first"))
    o = order(1, buyer=Buyer(id="b", tier="vip", tags=("new_first_order",)))
    few = facts_for(rules)(o, 50.0, "P2", ("invalid_phone",))
    assert set(few) == {"amounts.paid_fen", "items.quantity"}
    assert few.items() <= order_facts(o, 50.0, "P2", ("invalid_phone",)).items()
    assert set(facts_for(RULES)(o, 1.0, "P3", ())) == {
        "channel", "source", "buyer.tags", "delivery", "buyer.tier"}
