"""Each anomaly is found on a planted example and not on the clean one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.domain.anomalies import find_anomalies, phone_ok
from hub.domain.order import Amounts, Buyer, Item, Receiver
from hub.domain.rules import default_ruleset, load_ruleset
from tests.factories import T0, order

RULES = default_ruleset()
CLEAN = order(1)


def receiver(**changes) -> Receiver:
    return CLEAN.receiver.model_copy(update=changes)


def codes(batch, inventory=None, recent=(), rules=RULES) -> list[list[str]]:
    return [[a.code for a in found]
            for found in find_anomalies(batch, inventory or {}, list(recent), rules)]


def test_a_clean_order_has_no_anomaly():
    assert codes([CLEAN], {"SKU-1": 100}) == [[]]


PLANTED = {
    "incomplete_address": [{"receiver": receiver(district="")},
                           {"receiver": receiver(street="", detail="杭州市")},
                           {"receiver": receiver(street="", detail="3号")},
                           {"receiver": receiver(city="南京市")},
                           {"receiver": receiver(province="火星省")}],
    "remote_standard_express": [{"receiver": receiver(province="新疆维吾尔自治区",
                                                      city="乌鲁木齐市", district="天山区")},
                                {"receiver": receiver(province="西藏", city="拉萨市",
                                                      district="城关区")}],
    "payment_mismatch": [{"amounts": Amounts(total_fen=19900, paid_fen=19800)},
                         {"amounts": Amounts(total_fen=19900, paid_fen=0)},
                         {"amounts": Amounts(total_fen=19900, freight_fen=1000,
                                             paid_fen=19900)},
                         {"status": "shipped", "amounts": Amounts(total_fen=100, paid_fen=99)},
                         {"order_type": "presale_deposit",
                          "amounts": Amounts(total_fen=19900, paid_fen=0)}],
    "invalid_phone": [{"receiver": receiver(phone="12812345678")},
                      {"receiver": receiver(phone="1381234567")},
                      {"receiver": receiver(phone="")},
                      {"receiver": receiver(phone="1381234567a")}],
}


@pytest.mark.parametrize(("code", "changes"),
                         [(c, ch) for c, many in PLANTED.items() for ch in many])
def test_each_planted_anomaly_is_found(code, changes):
    found = find_anomalies([order(1, **changes)], {}, [], RULES)[0]
    assert [a.code for a in found] == [code]
    policy = RULES.anomalies[code]
    assert (found[0].severity, found[0].group) == (policy.severity, policy.group)
    assert found[0].detail


@pytest.mark.parametrize("changes", [
    {"order_type": "presale_deposit", "amounts": Amounts(total_fen=19900, paid_fen=5000)},
    {"status": "unpaid", "amounts": Amounts(total_fen=19900, paid_fen=0)},
    {"status": "cancelled", "amounts": Amounts(total_fen=19900, paid_fen=0)},
    {"amounts": Amounts(total_fen=19900, discount_fen=900, freight_fen=500, paid_fen=19500)},
    {"receiver": receiver(phone="*******5678")},
    {"receiver": receiver(phone="+86 138-1234-5678")},
    {"delivery": "express", "receiver": receiver(province="新疆", city="乌鲁木齐",
                                                 district="天山区")},
])
def test_near_misses_are_clean(changes):
    assert codes([order(1, **changes)]) == [[]]


@pytest.mark.parametrize(("phone", "ok"), [
    ("13812345678", True), ("8613812345678", True), ("+86-138-1234-5678", True),
    ("19912345678", True), ("12012345678", False), ("23812345678", False),
    ("138123456789", False), ("１３８１２３４５６７８", False), ("138****5678", True),
])
def test_phone_rule(phone, ok):
    assert phone_ok(phone) is ok


def test_out_of_stock_is_drawn_down_within_the_batch():
    items = (Item(sku="LAMP", quantity=2, price_fen=9900),)
    batch = [order(n, items=items) for n in (1, 2, 3)]
    assert codes(batch, {"LAMP": 5}) == [[], [], ["out_of_stock_paid"]]
    assert codes(batch, {"LAMP": 6}) == [[], [], []]
    assert codes(batch, {"OTHER": 0}) == [[], [], []]  # SKU not in the snapshot: not checked


def test_out_of_stock_only_counts_for_paid_orders():
    items = (Item(sku="LAMP", quantity=2, price_fen=9900),)
    unpaid = order(1, items=items, status="unpaid", amounts=Amounts(total_fen=19800))
    assert codes([unpaid, order(2, items=items)], {"LAMP": 1}) == [[], ["out_of_stock_paid"]]


def twin(n: int, minutes: float, **changes):
    """Another order by buyer-1 with the same items and address, ``minutes`` after T0."""
    fields = {"buyer": Buyer(id="buyer-1"), "items": CLEAN.items, **changes}
    return order(n, created_at=T0 + timedelta(minutes=minutes), **fields)


def test_duplicate_within_the_window_flags_the_later_order_only():
    first, second = twin(1, 0), twin(2, 29)
    assert codes([first, second]) == [[], ["duplicate_order"]]
    assert codes([second, first]) == [["duplicate_order"], []]  # by time, not by position
    found = find_anomalies([second], {}, [first], RULES)[0]
    assert [a.code for a in found] == ["duplicate_order"]
    assert first.order_id in found[0].detail


def test_no_duplicate_outside_the_window_or_with_differences():
    first = twin(1, 0)
    assert codes([first, twin(2, 31)]) == [[], []]
    assert codes([twin(2, 31)], recent=[first]) == [[]]
    assert codes([first, twin(2, 5, receiver=receiver(detail="文三路200号"))]) == [[], []]
    other_items = (Item(sku="SKU-1", quantity=5, price_fen=9950),)
    assert codes([first, twin(2, 5, items=other_items,
                              amounts=Amounts(total_fen=49750, paid_fen=49750))]) == [[], []]
    assert codes([first, twin(2, 5, buyer=Buyer(id="someone-else"))]) == [[], []]


def test_a_new_version_of_the_same_order_is_not_its_own_duplicate():
    first = twin(1, 0)
    assert codes([first], recent=[first]) == [[]]


def test_same_instant_duplicates_flag_the_one_listed_later():
    a, b = twin(1, 3), twin(2, 3)
    assert codes([a, b]) == [[], ["duplicate_order"]]


def test_the_window_comes_from_the_rule_set():
    rules = load_ruleset("version: 2\nname: t\nduplicate_window_minutes: 60\n")
    assert codes([twin(1, 0), twin(2, 45)], rules=rules) == [[], ["duplicate_order"]]


def test_severity_and_group_come_from_the_rule_set():
    rules = load_ruleset("version: 2\nname: t\nanomalies:\n"
                         "  invalid_phone: {severity: critical, group: vip-care, action: alert}\n")
    found = find_anomalies([order(1, receiver=receiver(phone="1"))], {}, [], rules)[0]
    assert (found[0].code, found[0].severity, found[0].group) == (
        "invalid_phone", "critical", "vip-care")


def test_several_anomalies_on_one_order():
    o = order(1, receiver=receiver(phone="1", district=""),
              amounts=Amounts(total_fen=19900, paid_fen=1))
    assert sorted(codes([o])[0]) == ["incomplete_address", "invalid_phone", "payment_mismatch"]


@pytest.mark.parametrize(("province", "city", "town", "delivery"), [
    ("广东省", "东莞市", "长安镇", "standard"), ("广东省", "中山市", "古镇镇", "standard"),
    ("海南省", "儋州市", "那大镇", "express"), ("甘肃省", "嘉峪关市", "新城镇", "express"),
])
def test_a_complete_address_in_a_city_without_districts_is_clean(province, city, town,
                                                                 delivery):
    there = receiver(province=province, city=city, district="", street=town,
                     detail="人民路88号3栋201室")
    assert codes([order(1, receiver=there, delivery=delivery)]) == [[]]
    vague = receiver(province=province, city=city, district="", street="", detail="人民路88号")
    assert codes([order(1, receiver=vague, delivery=delivery)]) == [["incomplete_address"]]
