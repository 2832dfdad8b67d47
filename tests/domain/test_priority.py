"""The priority score: four weighted dimensions from the rule set's tables, and lanes."""

from __future__ import annotations

import pytest

from hub.domain.order import Buyer, Item, Receiver
from hub.domain.priority import score_batch, stock_states
from hub.domain.rules import default_ruleset, load_ruleset
from tests.factories import order

RULES = default_ruleset()


def one(o, inventory=None, rules=RULES):
    return score_batch([o], inventory or {}, rules)[0]


def test_case_example_live_stream_plus_same_city_is_p0():
    o = order(1, order_type="live_flash", delivery="same_city",
              buyer=Buyer(id="b1", tier="plus"))
    s = one(o, {"SKU-1": 500})
    assert s.score == pytest.approx(0.35 * 100 + 0.30 * 100 + 0.25 * 100 + 0.10 * 60)
    assert s.lane == "P0"
    assert s.breakdown == {"order_type": 100, "customer_tier": 100, "region": 100,
                           "inventory": 60}
    assert s.labels == ("live_flash", "plus", "same_city", "in_stock")


def test_an_ordinary_order_is_a_low_lane():
    s = one(order(1))  # normal, normal tier, standard to Zhejiang, no snapshot
    assert s.score == pytest.approx(0.35 * 40 + 0.30 * 30 + 0.25 * 40 + 0.10 * 50)
    assert s.score == pytest.approx(38) and s.lane == "P3"


@pytest.mark.parametrize(("changes", "region"), [
    ({"delivery": "same_city"}, "same_city"),
    ({"delivery": "express"}, "express"),
    ({"receiver": Receiver(province="新疆维吾尔自治区", city="乌鲁木齐市")}, "remote"),
    ({"delivery": "express", "receiver": Receiver(province="西藏", city="拉萨")}, "express"),
    ({}, "default"),
])
def test_region_dimension(changes, region):
    s = one(order(1, **changes))
    assert s.labels[2] == region
    assert s.breakdown["region"] == RULES.scores["region"][region]


def test_unknown_tier_and_type_use_the_tables_default():
    s = one(order(1, buyer=Buyer(id="b", tier="diamond")))
    assert s.labels[1] == "default"
    assert s.breakdown["customer_tier"] == RULES.scores["customer_tier"]["default"]


@pytest.mark.parametrize(("stock", "state"), [
    ({"A": 100, "B": 100}, "in_stock"), ({"A": 100, "B": 5}, "low"), ({"A": 100, "B": 1}, "out"),
    ({"A": 100}, "unknown"), ({}, "unknown"), ({"A": 0, "B": 5}, "out"),
])
def test_inventory_dimension(stock, state):
    items = (Item(sku="A", quantity=1, price_fen=100), Item(sku="B", quantity=2, price_fen=100))
    s = one(order(1, items=items), stock)
    assert s.labels[3] == state
    assert s.breakdown["inventory"] == RULES.scores["inventory"][state]


def test_paid_orders_draw_the_snapshot_down_in_batch_order():
    items = (Item(sku="A", quantity=3, price_fen=100),)
    batch = [order(n, items=items) for n in range(1, 5)] + [order(9, items=items,
                                                                     status="unpaid")]
    states = stock_states(batch, {"A": 30}, 20)
    # 30 left: in stock; 27 and 24: in stock; 21: in stock; then 18 < 20 is low
    assert [s for s, _ in states] == ["in_stock"] * 4 + ["low"]
    states = stock_states(batch, {"A": 7}, 0)
    # 7 -> 4 -> 1: the third cannot be served whole and takes nothing; nor can the rest
    assert states == [("in_stock", ()), ("in_stock", ()), ("out", ("A",)), ("out", ("A",)),
                      ("out", ("A",))]


def test_weights_and_lanes_come_from_the_rule_set():
    rules = load_ruleset("version: 3\nname: t\n"
                         "weights: {order_type: 1.0, customer_tier: 0, region: 0, inventory: 0}\n"
                         "lanes: {P0: 95, P1: 50, P2: 35}\n")
    assert one(order(1, order_type="live_flash"), rules=rules).lane == "P0"
    assert one(order(1, order_type="presale_final"), rules=rules).lane == "P1"
    assert one(order(1), rules=rules).lane == "P2"
    assert one(order(1, order_type="presale_deposit"), rules=rules).lane == "P3"
    assert one(order(1, order_type="presale_deposit"), rules=rules).score == 20
