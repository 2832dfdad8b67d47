"""An order pickles as one flat tuple (``hub.domain.order_codec``) and comes back equal,
with the same times, time zones and explicitly set fields."""

import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
import ray.cloudpickle
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.adapters import ADAPTERS
from hub.domain.order import SHANGHAI, Buyer, Order
from tests.test_order_model import make_order

SAMPLES = Path(__file__).parent / "domain" / "samples"


def same(a: Order, b: Order) -> None:
    assert a == b
    for name in ("created_at", "paid_at", "modified_at"):
        x, y = getattr(a, name), getattr(b, name)
        assert x == y and (x is None or (x.tzinfo == y.tzinfo and x.fold == y.fold))
        assert (x is None or x.tzinfo is not SHANGHAI) or y.tzinfo is SHANGHAI
    assert a.model_fields_set == b.model_fields_set
    for part in ("buyer", "receiver", "amounts"):
        assert getattr(a, part).model_fields_set == getattr(b, part).model_fields_set
    assert [i.model_fields_set for i in a.items] == [i.model_fields_set for i in b.items]


def test_round_trip_with_both_picklers():
    order = make_order(paid_at=datetime(2026, 11, 10, 16, 0, 30, 123456, tzinfo=UTC))
    for dumps in (pickle.dumps, ray.cloudpickle.dumps):
        same(pickle.loads(dumps(order)), order)


def test_an_items_ids_travel_with_it():
    from hub.domain.order import Item

    lines = (Item(sku="4987654321012", item_id="680112345678", outer_sku="LT-CEIL-24W",
                  quantity=1, price_fen=39900),
             Item(outer_sku="LT-BULB-E27-9W", sku="", quantity=3, price_fen=900))
    order = make_order().model_copy(update={"items": lines})
    back = pickle.loads(pickle.dumps(order))
    same(back, order)
    assert [(i.item_id, i.sku, i.outer_sku) for i in back.items] == [
        ("680112345678", "4987654321012", "LT-CEIL-24W"), ("", "", "LT-BULB-E27-9W")]
    assert "item_id" not in back.items[1].model_fields_set


def test_fields_left_to_defaults_stay_unset():
    order = make_order(buyer=Buyer(id="b9"))
    assert "paid_at" not in order.model_fields_set
    assert order.buyer.model_fields_set == {"id"}
    same(pickle.loads(pickle.dumps(order)), order)


def test_a_time_outside_shanghai_travels_as_it_is():
    """model_construct skips the validator that moves times to Shanghai."""
    odd = datetime(2026, 11, 11, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5)))
    order = make_order().model_copy(update={"modified_at": odd})
    back = pickle.loads(pickle.dumps(order))
    assert back.modified_at == odd and back.modified_at.utcoffset() == timedelta(hours=-5)
    same(back, order)


def test_the_flat_form_is_smaller_than_pydantics():
    order = make_order()
    assert len(pickle.dumps(order)) < len(pickle.dumps(order.__getstate__())) + 60


@pytest.mark.parametrize("channel", ["tmall", "jd", "douyin"])
def test_orders_the_adapters_build_round_trip(channel):
    blob = (SAMPLES / f"{channel}_page.json").read_bytes()
    page = ADAPTERS[channel].parse_page(orjson.loads(blob))
    assert page.orders
    for order in page.orders:
        same(pickle.loads(ray.cloudpickle.dumps(order)), order)


@given(micros=st.integers(0, 10**6 - 1), seconds=st.integers(0, 200 * 365 * 86400))
def test_shanghai_times_are_exact_to_the_microsecond(micros, seconds):
    at = datetime(2000, 1, 1, tzinfo=SHANGHAI) + timedelta(seconds=seconds, microseconds=micros)
    order = make_order(created_at=at, modified_at=at)
    back = pickle.loads(pickle.dumps(order))
    assert back.created_at == at and back.created_at.tzinfo is SHANGHAI
    assert back.created_at.isoformat() == at.isoformat()


def test_an_order_keeps_its_flat_tuple_and_a_rebuilt_one_the_tuple_it_came_from():
    from hub.domain.order_codec import _flatten, flatten, rebuild

    order = make_order()
    flat = flatten(order)
    assert flatten(order) is flat and flat == _flatten(order)
    again = rebuild(flat)
    assert flatten(again) is flat
    travelled = pickle.loads(pickle.dumps(order))
    assert flatten(travelled) == flat and travelled == order
    assert hash(travelled) == hash(make_order()) and make_order() == order


def test_a_copy_never_carries_its_originals_flat_tuple():
    from hub.domain.order_codec import _flatten, flatten

    order = make_order()
    flatten(order)
    moved = order.model_copy(update={"shop": "other-shop", "buyer": Buyer(id="b2")})
    assert flatten(moved) == _flatten(moved) and flatten(moved)[1] == "other-shop"
    assert pickle.loads(pickle.dumps(moved)) == moved


@pytest.mark.parametrize("flattened", [True, False])
def test_with_buyer_gives_the_copy_a_true_flat_tuple(flattened):
    from hub.domain.order_codec import _flatten, flatten, with_buyer

    order = make_order(buyer=Buyer(id="b1"))  # tier and tags left to their defaults
    if flattened:
        flatten(order)
    vip = with_buyer(order, Buyer.model_construct(id="b1", tier="svip", tags=("plus",)))
    assert flatten(vip) == _flatten(vip)
    same(pickle.loads(pickle.dumps(vip)), vip)
    assert (vip.buyer.tier, vip.buyer.tags) == ("svip", ("plus",))
    assert order.buyer.tier == "normal" and flatten(order) == _flatten(order)


@pytest.mark.parametrize("channel", sorted(ADAPTERS))
def test_a_batch_pickles_as_one_blob_and_comes_back_a_list_of_equal_orders(channel):
    from hub.domain.order_codec import OrderBatch

    page = ADAPTERS[channel].parse_page(
        orjson.loads((SAMPLES / f"{channel}_page.json").read_bytes()))
    elsewhere = make_order().model_copy(update={
        "created_at": datetime(2026, 11, 11, tzinfo=timezone(timedelta(hours=-5)))})
    orders = [*page.orders, elsewhere]
    for dumps in (pickle.dumps, ray.cloudpickle.dumps):
        back = pickle.loads(dumps(OrderBatch(orders), protocol=5))
        assert type(back) is list and len(back) == len(orders)
        for a, b in zip(orders, back, strict=True):
            same(a, b)
    assert pickle.loads(pickle.dumps(OrderBatch())) == []
