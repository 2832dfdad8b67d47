"""Properties of every adapter: any JSON value gives an ``Order`` (a valid one) or a
``ParseError``, never another exception; ``parse_order(to_raw(o)) == o`` for every order
the marketplace can carry."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain.adapters import ADAPTERS, MarketplaceError, Page, ParseError
from hub.domain.order import (
    SHANGHAI,
    Amounts,
    Buyer,
    DeliveryService,
    Item,
    Order,
    OrderStatus,
    OrderType,
    Receiver,
)
from sim.shapes import SHAPES

CHANNELS = ("tmall", "jd", "douyin")
FAST = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["", "0", "1", "2.50", "1.005", "-1", "2026-11-11 00:00:05",
                              "WAIT_SELLER_SEND_GOODS", "step", "LIVE", "FREE", "同城"]))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def assert_valid(order: Order) -> None:
    """The order keeps every invariant of the model (validation gives it back equal)."""
    again = Order.model_validate(order.model_dump())
    assert again == order
    assert order.created_at.utcoffset() == timedelta(hours=8)


def parse(channel: str, raw, **kw):
    try:
        order = ADAPTERS[channel].parse_order(raw, **kw)
    except ParseError as exc:
        assert str(exc).endswith(exc.reason)
        # explicit checks, not the safety net that turns a bug into a quarantine
        assert not exc.reason.startswith("malformed order"), exc.reason
        return None
    assert_valid(order)
    return order


@pytest.mark.parametrize("channel", CHANNELS)
@FAST
@given(value=json_values)
def test_any_json_value_gives_an_order_or_a_parse_error(channel, value):
    parse(channel, value)


@pytest.mark.parametrize("channel", CHANNELS)
@FAST
@given(value=json_values)
def test_any_json_value_as_a_page_gives_a_page_or_a_typed_error(channel, value):
    try:
        page = ADAPTERS[channel].parse_any(value)
    except (ParseError, MarketplaceError):
        return
    assert isinstance(page, Page)
    for order in page.orders:
        assert_valid(order)
    for bad in page.quarantined:
        assert isinstance(bad.error, ParseError) and bad.error.path.startswith("[")


# -- canonical orders the marketplaces can carry ---------------------------------------

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
ids = st.from_regex(r"[1-9][0-9]{0,18}|[A-Z][A-Za-z0-9_-]{0,12}", fullmatch=True)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=SHANGHAI))
items = st.builds(Item, sku=ids, outer_sku=st.sampled_from(["", "LAMP-1", "外部-9"]),
                  quantity=st.integers(1, 999), price_fen=st.integers(0, 10**9),
                  item_id=st.from_regex(r"[1-9][0-9]{10,18}", fullmatch=True))


def rendered_item_ids(channel: str, raw: dict) -> list[str]:
    """The item id of each line as the raw order carries it (what the adapter must read)."""
    if channel == "tmall":
        found = [line.get("num_iid") for line in raw["orders"]["order"]]
    elif channel == "jd":
        found = [line.get("wareId") for line in raw["itemInfoList"]]
    else:
        found = [line.get("product_id_str") or line.get("product_id")
                 for line in raw["sku_order_list"]]
    return ["" if value in (None, 0, "") else str(value) for value in found]


def as_read(order: Order, raw: dict) -> Order:
    """``order`` with the item ids its raw form carries (a shape may render the SKU id
    where the order has an item id of its own)."""
    ids = rendered_item_ids(order.channel.value, raw)
    lines = tuple(i.model_copy(update={"item_id": n}) for i, n in zip(order.items, ids,
                                                                        strict=True))
    return order.model_copy(update={"items": lines})


SOURCES = {"tmall": ["", "live_room", "search"], "jd": ["", "live_room"],
           "douyin": ["", "live_room", "shortvideo"]}


@st.composite
def orders(draw, channel: str) -> Order:
    """Orders within what ``channel`` can carry (``sim.shapes.<channel>.expressible``)."""
    created = draw(moments)
    paid = draw(st.none() | st.just(created + timedelta(seconds=draw(st.integers(1, 10**6)))))
    source = draw(st.sampled_from(SOURCES[channel]))
    kinds = [OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL,
             OrderType.LIVE_FLASH if source == "live_room" else OrderType.NORMAL]
    if channel != "jd":
        kinds.append(OrderType.GIFT)
    order_type = draw(st.sampled_from(kinds))
    deliveries = list(DeliveryService)
    if channel == "douyin":
        deliveries = [DeliveryService.STANDARD] + (
            [] if order_type in (OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL)
            else [DeliveryService.SAME_CITY])
    statuses = [s for s in OrderStatus if channel != "jd" or s != OrderStatus.PARTIALLY_SHIPPED]
    lines = tuple(draw(st.lists(items, min_size=1, max_size=4)))
    total = sum(i.price_fen * i.quantity for i in lines) if channel == "douyin" \
        else draw(st.integers(0, 10**10))
    order = Order(
        channel=channel, shop=draw(ids), order_id=draw(ids),
        status=draw(st.sampled_from(statuses)), created_at=created, paid_at=paid,
        modified_at=paid or created,
        buyer=Buyer(id=draw(ids), tier="plus" if channel == "jd" and draw(st.booleans())
                    else "normal",
                    tags=tuple(draw(st.lists(st.sampled_from(["new_first_order", "vip_day"]),
                                             max_size=2))) if channel == "douyin" else ()),
        receiver=Receiver(name=draw(words), phone=draw(st.sampled_from(
            ["13812345678", "", "021-5555-6666"])), province=draw(words), city=draw(words),
            district=draw(words), street=draw(words), detail=draw(words)),
        items=lines,
        amounts=Amounts(total_fen=total, discount_fen=draw(st.integers(0, 10**8)),
                        freight_fen=draw(st.integers(0, 10**6)),
                        paid_fen=draw(st.integers(0, 10**10))),
        order_type=order_type, source=source,
        source_detail=draw(st.sampled_from(["", "7301188", "room-9"])) if source == "live_room"
        else draw(st.sampled_from(["7301188", "v-9"])) if source == "shortvideo" else "",
        delivery=draw(st.sampled_from(deliveries)),
        warehouse_hint=draw(st.sampled_from(["", "HZ-01"])))
    assert SHAPES[channel].expressible(order)
    return order


def decrypted_for(channel: str, raw: dict, order: Order) -> dict:
    if channel != "douyin":
        return {}
    return {"decrypted": SHAPES["douyin"].decrypt_map(raw, None, order)}


@pytest.mark.parametrize("channel", CHANNELS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(channel, data):
    order = data.draw(orders(channel))
    raw = SHAPES[channel].to_raw(order)
    read = ADAPTERS[channel].parse_order(raw, **decrypted_for(channel, raw, order))
    assert [i.item_id for i in read.items] == rendered_item_ids(channel, raw)
    assert read == as_read(order, raw)


@pytest.mark.parametrize("channel", CHANNELS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_through_a_page(channel, data):
    batch = data.draw(st.lists(orders(channel), min_size=1, max_size=3))
    shape = SHAPES[channel]
    payload = shape.page([shape.to_raw(o) for o in batch], page_no=1, page_size=3, total=7,
                         has_next=True)
    page = ADAPTERS[channel].parse_page(payload, page_no=1, page_size=3)
    assert page.total == 7 and page.quarantined == []
    assert page.has_next is True
    if channel != "douyin":  # Douyin's receivers stay masked without the decrypt answer
        assert page.orders == [as_read(o, shape.to_raw(o)) for o in batch]


def paths(value, prefix=()):
    """Every (path, container, key) inside a raw order."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key), value, key
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index), value, index
            yield from paths(inner, (*prefix, index))


@pytest.mark.parametrize("channel", CHANNELS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), replacement=json_values)
def test_mutated_raw_orders_give_an_order_or_a_parse_error(channel, data, replacement):
    order = data.draw(orders(channel))
    raw = copy.deepcopy(SHAPES[channel].to_raw(order))
    spots = list(paths(raw))
    for _ in range(data.draw(st.integers(1, 3))):
        _path, container, key = data.draw(st.sampled_from(spots))
        if isinstance(container, dict) and data.draw(st.booleans()):
            container.pop(key, None)
        else:
            container[key] = copy.deepcopy(replacement)
        spots = list(paths(raw))
        if not spots:
            break
    parse(channel, raw)


def test_error_messages_name_path_and_reason():
    err = ParseError("orders.order[1].num", "must be >= 1, got 0", "T1")
    assert str(err) == "orders.order[1].num: must be >= 1, got 0"
    assert isinstance(err, ValueError) and err.order_id == "T1"
    assert err.within("[3]").path == "[3].orders.order[1].num"
    assert str(ParseError("", "expected an object, got list")) == \
        "<order>: expected an object, got list"
