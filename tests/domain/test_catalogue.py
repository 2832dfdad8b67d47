"""The merchant's catalogue: resolving lines, expanding bundles and kits, refusing entries
that cannot stand, and the stock checked per merchant SKU across every channel."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain import routing
from hub.domain.catalogue import (
    CatalogueRefused,
    as_text,
    catalogue,
    expand,
    expand_batch,
    from_text,
)
from hub.domain.decision import Reason
from hub.domain.order import Item
from hub.domain.outbox import dispatch_payload, outbox_for
from hub.domain.priority import stock_states, taken
from hub.domain.rules import default_ruleset
from tests.factories import order

SKUS = [{"sku": "LT-CEIL-24W", "name": "吸顶灯 24W"}, {"sku": "LT-DESK-12W", "name": "台灯"},
        {"sku": "LT-BULB-E27-9W", "name": "E27 灯泡 9W"}, {"sku": "LT-STRIP-5M", "name": "灯带"}]
# the desk lamp sells on all three marketplaces, under each one's own ids
DESK = [
    {"channel": "tmall", "shop": "", "item_id": "680112345678", "sku_id": "4987654321012",
     "components": [{"sku": "LT-DESK-12W", "quantity": 1}]},
    {"channel": "jd", "shop": "", "item_id": "100012345600", "sku_id": "100012345678",
     "components": [{"sku": "LT-DESK-12W", "quantity": 1}]},
    {"channel": "douyin", "shop": "", "item_id": "3556718201736620111",
     "sku_id": "1745123456789012345", "components": [{"sku": "LT-DESK-12W", "quantity": 1}]},
]
BUNDLE = {"channel": "tmall", "shop": "", "item_id": "680112340001", "sku_id": "4987654320001",
          "components": [{"sku": "LT-CEIL-24W", "quantity": 1},
                         {"sku": "LT-BULB-E27-9W", "quantity": 3}]}
DESK_LINE = {"tmall": ("680112345678", "4987654321012"), "jd": ("100012345600", "100012345678"),
             "douyin": ("3556718201736620111", "1745123456789012345")}


def line(item_id: str = "", sku: str = "", outer: str = "", quantity: int = 1) -> Item:
    return Item(item_id=item_id, sku=sku, outer_sku=outer, quantity=quantity, price_fen=100)


@pytest.fixture
def cat():
    return catalogue(SKUS, [*DESK, BUNDLE], version=3)


# -- resolving a line ------------------------------------------------------------------------

def test_a_listing_of_the_shop_comes_before_the_channels(cat):
    own = {**DESK[0], "shop": "明灯旗舰店", "components": [{"sku": "LT-DESK-12W", "quantity": 2}]}
    both = catalogue(SKUS, [*DESK, own])
    item = line(*DESK_LINE["tmall"])
    assert both.resolve("tmall", "明灯旗舰店", item) == (("LT-DESK-12W", 2),)
    assert both.resolve("tmall", "other-shop", item) == (("LT-DESK-12W", 1),)


def test_a_line_with_only_platform_ids_or_only_an_outer_code_resolves(cat):
    assert cat.resolve("jd", "s", line(sku="100012345678")) == (("LT-DESK-12W", 1),)  # no ware id
    assert cat.resolve("tmall", "s", line(outer="LT-STRIP-5M")) == (("LT-STRIP-5M", 1),)
    item_only = catalogue(SKUS, [{"channel": "tmall", "item_id": "680100000001",
                                  "components": [{"sku": "LT-STRIP-5M", "quantity": 1}]}])
    assert item_only.resolve("tmall", "s", line(item_id="680100000001")) == (("LT-STRIP-5M", 1),)


def test_the_listing_wins_over_the_outer_code_and_unknown_codes_map_to_nothing(cat):
    assert cat.resolve("tmall", "s", line(*DESK_LINE["tmall"], outer="LT-STRIP-5M")) == (
        ("LT-DESK-12W", 1),)
    assert cat.resolve("tmall", "s", line(outer="LAMP-CEIL-60W")) is None  # not a merchant SKU
    assert cat.resolve("jd", "s", line(*DESK_LINE["tmall"])) is None  # another channel's ids


def test_an_order_expands_to_merchant_skus_summed_with_unmapped_lines_named(cat):
    o = order(1, items=(line(BUNDLE["item_id"], BUNDLE["sku_id"], quantity=2),
                        line(outer="LT-BULB-E27-9W", quantity=1),
                        line("680199999999", "4987699999999", quantity=1)))
    skus, unmapped = expand(o, cat)
    assert skus == (("LT-CEIL-24W", 2), ("LT-BULB-E27-9W", 7))
    assert unmapped == ("item 680199999999 sku 4987699999999 outer - x1",)
    assert expand_batch([o], None) is None


def test_a_kit_sku_expands_to_what_is_stocked():
    kit = catalogue([*SKUS, {"sku": "LT-KIT-CEIL", "name": "套装", "components": [
        {"sku": "LT-CEIL-24W", "quantity": 1}, {"sku": "LT-BULB-E27-9W", "quantity": 3}]}],
        [{"channel": "jd", "item_id": "1", "sku_id": "2",
          "components": [{"sku": "LT-KIT-CEIL", "quantity": 2}]}])
    assert kit.resolve("jd", "s", line("1", "2")) == (("LT-CEIL-24W", 2), ("LT-BULB-E27-9W", 6))
    assert kit.resolve("jd", "s", line(outer="LT-KIT-CEIL")) == (
        ("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 3))


# -- refusing a catalogue ---------------------------------------------------------------------

@pytest.mark.parametrize(("skus", "listing", "named"), [
    (SKUS, {**BUNDLE, "components": []}, "listing tmall/*/680112340001/4987654320001: a bundle "
                                         "of nothing"),
    (SKUS, {**BUNDLE, "components": [{"sku": "LT-CEIL-24W", "quantity": 0}]},
     "listing tmall/*/680112340001/4987654320001: quantity 0 of LT-CEIL-24W is below 1"),
    (SKUS, {**BUNDLE, "components": [{"sku": "LT-GONE", "quantity": 1}]},
     "listing tmall/*/680112340001/4987654320001: unknown merchant SKU LT-GONE"),
    ([*SKUS, {"sku": "LT-A", "components": [{"sku": "LT-B", "quantity": 1}]},
      {"sku": "LT-B", "components": [{"sku": "LT-A", "quantity": 1}]}], BUNDLE,
     "merchant SKU LT-A: a cycle (LT-A -> LT-B -> LT-A)"),
    ([*SKUS, {"sku": "LT-SELF", "components": [{"sku": "LT-SELF", "quantity": 2}]}], BUNDLE,
     "merchant SKU LT-SELF: a cycle (LT-SELF -> LT-SELF)"),
    ([*SKUS, {"sku": "LT-EMPTY", "components": []}], BUNDLE,
     "merchant SKU LT-EMPTY: a bundle of nothing"),
])
def test_an_entry_that_cannot_stand_is_refused_by_name(skus, listing, named):
    with pytest.raises(CatalogueRefused) as refused:
        catalogue(skus, [*DESK, listing])
    assert refused.value.problems == [named]
    assert named in str(refused.value)


def test_a_refused_change_leaves_the_catalogue_in_force(cat):
    bad = {"version": 4, "listings": [{**DESK[1], "components": [{"sku": "LT-X", "quantity": 1}]}]}
    with pytest.raises(CatalogueRefused):
        cat.merged(bad)
    assert cat.version == 3 and cat.resolve("jd", "s", line(*DESK_LINE["jd"])) == (
        ("LT-DESK-12W", 1),)
    newer = cat.merged({"version": 5, "listings": [
        {**DESK[1], "components": [{"sku": "LT-DESK-12W", "quantity": 2}]}],
        "skus": [{"sku": "LT-SWITCH-1G", "name": "开关"}]})
    assert newer.version == 5 and newer.resolve("jd", "s", line(*DESK_LINE["jd"])) == (
        ("LT-DESK-12W", 2),)
    assert newer.resolve("tmall", "s", line(outer="LT-SWITCH-1G")) == (("LT-SWITCH-1G", 1),)
    assert newer.resolve("tmall", "s", line(BUNDLE["item_id"], BUNDLE["sku_id"])) == (
        ("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 3))  # what the change did not name stays


# -- properties of expansion ------------------------------------------------------------------

@st.composite
def catalogues(draw):
    """Merchant SKUs, some kits made of earlier SKUs only (no cycle), listings over them."""
    n = draw(st.integers(1, 8))
    codes = [f"LT-{i}" for i in range(n)]
    skus = []
    for i, code in enumerate(codes):
        parts = draw(st.lists(st.tuples(st.sampled_from(codes[:i]), st.integers(1, 4)),
                              max_size=3)) if i and draw(st.booleans()) else []
        entry = {"sku": code, "name": code}
        if parts:
            entry["components"] = [{"sku": s, "quantity": q} for s, q in parts]
        skus.append(entry)
    listings = [{"channel": draw(st.sampled_from(["tmall", "jd", "douyin"])), "shop": "",
                 "item_id": str(10**11 + k), "sku_id": str(10**12 + k),
                 "components": [{"sku": s, "quantity": q} for s, q in draw(st.lists(
                     st.tuples(st.sampled_from(codes), st.integers(1, 5)), min_size=1,
                     max_size=3))]} for k in range(draw(st.integers(1, 6)))]
    return skus, listings


def stocked_units(skus: list[dict], code: str, times: int, into: dict[str, int]) -> None:
    """What ``times`` units of merchant SKU ``code`` ship, kits taken apart (the reference)."""
    entry = next(s for s in skus if s["sku"] == code)
    if "components" not in entry:
        into[code] = into.get(code, 0) + times
        return
    for part in entry["components"]:
        stocked_units(skus, part["sku"], times * part["quantity"], into)


@settings(max_examples=150, deadline=None)
@given(made=catalogues(), data=st.data())
def test_expansion_multiplies_quantities_into_known_stocked_skus(made, data):
    skus, listings = made
    cat = catalogue(skus, listings)
    picks = data.draw(st.lists(st.tuples(st.sampled_from(listings), st.integers(1, 9)),
                               min_size=1, max_size=4))
    expected: dict[str, int] = {}
    for listing, quantity in picks:
        for part in listing["components"]:
            stocked_units(skus, part["sku"], quantity * part["quantity"], expected)
    lines = [(lst["channel"], line(lst["item_id"], lst["sku_id"], quantity=q)) for lst, q in picks]
    total: dict[str, int] = {}
    for channel, item in lines:
        for sku, n in cat.resolve(channel, "any-shop", item):
            total[sku] = total.get(sku, 0) + n * item.quantity
    assert total == expected
    kits = {s["sku"] for s in skus if "components" in s}
    known = {s["sku"] for s in skus}
    assert all(sku in known and sku not in kits and n >= 1 for sku, n in total.items())


@settings(max_examples=100, deadline=None)
@given(made=catalogues(), cut=st.integers(0, 20))
def test_a_cycle_anywhere_is_refused(made, cut):
    skus, listings = made
    i = cut % len(skus)
    looped = [dict(s) for s in skus]
    # the SKU i is made of the last one, which is made (directly or not) of ... itself
    looped[i]["components"] = [{"sku": skus[-1]["sku"], "quantity": 1}]
    looped[-1]["components"] = [*looped[-1].get("components", []),
                                {"sku": skus[i]["sku"], "quantity": 1}]
    with pytest.raises(CatalogueRefused) as refused:
        catalogue(looped, listings)
    assert any("a cycle" in p for p in refused.value.problems)


def test_merchant_lines_as_text_round_trip():
    lines = (("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 30))
    assert from_text(as_text(lines)) == list(lines)


# -- stock per merchant SKU across all channels -----------------------------------------------

def desk_order(n: int, channel: str):
    item_id, sku = DESK_LINE[channel]
    return order(n, channel=channel, order_id=f"{channel}-{n}",
                 items=(line(item_id, sku, quantity=1),))


def test_ten_in_stock_twelve_paid_orders_from_three_channels_hold_exactly_two(cat):
    channels = ["douyin", "jd", "tmall", "jd", "douyin", "tmall"] * 2
    batch = [desk_order(n, ch) for n, ch in enumerate(channels)]
    decisions = routing.decide(batch, {"LT-DESK-12W": 10}, [], default_ruleset(), cat)
    held = [d for d in decisions if d.hold_reason == Reason.OUT_OF_STOCK_PAID]
    assert len(held) == 2 and [d.order_id for d in held] == ["douyin-10", "tmall-11"]
    assert [a.detail for a in held[0].anomalies] == ["short: LT-DESK-12W"]
    assert {d.channel for d in decisions if not d.held} == {"tmall", "jd", "douyin"}


def test_the_batch_draws_only_what_it_served(cat):
    batch = [desk_order(n, ch) for n, ch in enumerate(["jd", "tmall", "douyin"])]
    lines = expand_batch(batch, cat)
    stocks = stock_states(batch, {"LT-DESK-12W": 2}, 20, lines)
    assert [s[0] for s in stocks] == ["low", "low", "out"]
    assert taken(batch, stocks, {"LT-DESK-12W": 2}, lines) == {"LT-DESK-12W": 2}


def test_a_bundle_draws_each_component(cat):
    lamp = order(1, items=(line(BUNDLE["item_id"], BUNDLE["sku_id"], quantity=2),))
    bulbs = order(2, items=(line(outer="LT-BULB-E27-9W", quantity=2),))
    stock = {"LT-CEIL-24W": 5, "LT-BULB-E27-9W": 7}
    decisions = routing.decide([lamp, bulbs], stock, [], default_ruleset(), cat)
    assert decisions[0].extra["skus"] == "LT-CEIL-24W*2 LT-BULB-E27-9W*6"
    assert decisions[0].hold_reason is None
    assert decisions[1].hold_reason == Reason.OUT_OF_STOCK_PAID  # 7 - 6 bulbs left: 1 < 2
    lines = expand_batch([lamp, bulbs], cat)
    stocks = stock_states([lamp, bulbs], stock, 20, lines)
    assert taken([lamp, bulbs], stocks, stock, lines) == {"LT-CEIL-24W": 2, "LT-BULB-E27-9W": 6}


def test_an_unmapped_line_holds_the_order_for_merchandising(cat):
    o = order(1, items=(line("680199999999", "4987699999999"), line(outer="LT-STRIP-5M")))
    d = routing.decide([o], {"LT-STRIP-5M": 50}, [], default_ruleset(), cat)[0]
    assert d.hold_reason == Reason.UNMAPPED_SKU and d.alert_groups == ("merchandising",)
    assert d.anomalies[0].detail == "no merchant SKU for: item 680199999999 sku 4987699999999 " \
                                    "outer - x1"
    assert "skus" not in d.extra and outbox_for([o], [d])[0].destination == "dingtalk"


def test_the_dispatch_carries_merchant_skus_and_keeps_the_marketplace_lines(cat):
    o = order(1, items=(line(BUNDLE["item_id"], BUNDLE["sku_id"], quantity=1),
                        line(outer="LT-CEIL-24W", quantity=1)))
    d = routing.decide([o], {}, [], default_ruleset(), cat)[0]
    payload = dispatch_payload(o, d)
    assert payload["items"] == [{"sku": "LT-CEIL-24W", "quantity": 2},
                                {"sku": "LT-BULB-E27-9W", "quantity": 3}]
    assert payload["listing_items"] == [
        {"item_id": "680112340001", "sku_id": "4987654320001", "outer_sku": "", "quantity": 1},
        {"item_id": "", "sku_id": "", "outer_sku": "LT-CEIL-24W", "quantity": 1}]
    plain = routing.decide([o], {}, [], default_ruleset())[0]  # no catalogue in force
    assert dispatch_payload(o, plain)["items"] == [{"sku": "4987654320001", "quantity": 1},
                                                   {"sku": "", "quantity": 1}]
    assert "listing_items" not in dispatch_payload(o, plain)
