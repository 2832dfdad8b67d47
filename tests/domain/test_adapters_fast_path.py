"""The typed fast path (``decode`` then ``parse_page``) means what the ordinary one
(``orjson.loads`` then ``parse_page``) means: equal pages, or the same error, for sample
pages, generated pages and pages with a mutated record; bad records still get their
``ParseError`` with the field path."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from hub.domain.adapters import ADAPTERS, MarketplaceError, ParseError
from hub.domain.adapters.fast_path import Typed
from sim.shapes import SHAPES
from tests.domain.test_adapters_properties import json_values, orders, paths

CHANNELS = ("tmall", "jd", "douyin")
SAMPLES = Path(__file__).parent / "samples"
SOME = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def both_ways(channel: str, blob: bytes, **kw):
    """(typed outcome, ordinary outcome): a page's fields, or the error's type and text."""
    adapter = ADAPTERS[channel]

    def run(payload):
        try:
            page = adapter.parse_page(payload, **kw)
        except (ParseError, MarketplaceError) as exc:
            return type(exc).__name__, str(exc)
        return (page.orders, [(q.raw, str(q.error), q.error.path) for q in page.quarantined],
                page.has_next, page.total)

    return run(adapter.decode(blob)), run(orjson.loads(blob))


def dumps(value) -> bytes:
    """JSON bytes of any value (integers beyond 64 bits too); NaN is not JSON: skipped."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except ValueError:
        reject()
        raise


def page_of(channel: str, raws: list) -> bytes:
    return dumps(SHAPES[channel].page(raws, page_no=1, page_size=3, total=7, has_next=True))


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_samples_parse_the_same_both_ways(name):
    channel = name.split("_")[0]
    typed, ordinary = both_ways(channel, (SAMPLES / name).read_bytes())
    assert typed == ordinary


def _raws(channel: str, batch: list) -> list[dict]:
    """The orders as the marketplace's records, ids as marketplaces usually send them:
    strings."""
    raws = [SHAPES[channel].to_raw(o) for o in batch]
    for raw in raws:
        for key in ("tid", "tid_str", "orderId", "order_id"):
            if key in raw:
                raw[key] = str(raw[key])
    return raws


@pytest.mark.parametrize("channel", CHANNELS)
@SOME
@given(data=st.data())
def test_a_usual_page_is_converted_by_the_typed_path_itself(channel, data):
    batch = data.draw(st.lists(orders(channel), min_size=1, max_size=3))
    raws = _raws(channel, batch)
    blob = page_of(channel, raws)
    payload = ADAPTERS[channel].decode(blob)
    assert isinstance(payload, Typed)
    direct = payload.convert(payload.body, "", page_no=1, page_size=3)  # no fallback
    ordinary = ADAPTERS[channel].parse_page(orjson.loads(blob), page_no=1, page_size=3)
    assert direct == ordinary and direct.orders


@pytest.mark.parametrize("channel", CHANNELS)
def test_bytes_that_are_not_json_raise_as_orjson_does(channel):
    with pytest.raises(orjson.JSONDecodeError):
        ADAPTERS[channel].decode(b'{"code": 10000, "data": ')


@pytest.mark.parametrize("channel", CHANNELS)
@SOME
@given(data=st.data())
def test_generated_pages_parse_the_same_both_ways(channel, data):
    batch = data.draw(st.lists(orders(channel), min_size=1, max_size=3))
    blob = page_of(channel, [SHAPES[channel].to_raw(o) for o in batch])
    typed, ordinary = both_ways(channel, blob, page_no=1, page_size=3)
    assert typed == ordinary
    assert not ordinary[1]  # nothing quarantined
    same_ciphers(channel, blob)


def same_ciphers(channel: str, blob: bytes) -> None:
    """Douyin's ciphers to decrypt are the same read from the typed page."""
    if channel == "douyin":
        adapter = ADAPTERS[channel]
        try:
            ordinary = adapter.ciphers(orjson.loads(blob))
        except Exception as exc:  # the same error both ways
            with pytest.raises(type(exc)):
                adapter.ciphers(adapter.decode(blob))
            return
        assert adapter.ciphers(adapter.decode(blob)) == ordinary


@pytest.mark.parametrize("channel", CHANNELS)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), replacement=json_values)
def test_pages_with_a_mutated_record_parse_the_same_both_ways(channel, data, replacement):
    first, second = data.draw(orders(channel)), data.draw(orders(channel))
    raw = copy.deepcopy(SHAPES[channel].to_raw(second))
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
    blob = page_of(channel, [SHAPES[channel].to_raw(first), raw])
    typed, ordinary = both_ways(channel, blob)
    assert typed == ordinary
    same_ciphers(channel, blob)


@pytest.mark.parametrize("channel", CHANNELS)
@SOME
@given(envelope=json_values)
def test_any_json_value_parses_the_same_both_ways(channel, envelope):
    typed, ordinary = both_ways(channel, dumps(envelope))
    assert typed == ordinary
    same_ciphers(channel, dumps(envelope))


def test_a_bad_line_is_quarantined_with_its_field_path():
    raw = orjson.loads((SAMPLES / "tmall_page.json").read_bytes())
    trades = raw["trades_sold_increment_get_response"]["trades"]["trade"]
    trades[1]["orders"]["order"][0]["num"] = "many"
    page = ADAPTERS["tmall"].parse_page(ADAPTERS["tmall"].decode(orjson.dumps(raw)))
    assert [q.error.path for q in page.quarantined] == ["[1].orders.order[0].num",
                                                        "[4].orders.order[1].num"]
    assert len(page.orders) == len(trades) - 2


@pytest.mark.parametrize("big", [2**64, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_read_as_orjson_reads_them(big):
    raw = orjson.loads((SAMPLES / "douyin_page.json").read_bytes())
    raw["data"]["shop_order_list"][0]["sku_order_list"][0]["item_num"] = big
    blob = dumps(raw)
    typed, ordinary = both_ways("douyin", blob)
    assert typed == ordinary


@pytest.mark.parametrize("channel", CHANNELS)
@SOME
@given(data=st.data())
def test_known_versions_are_listed_not_converted_and_the_rest_is_the_same(channel, data):
    batch = data.draw(st.lists(orders(channel), min_size=1, max_size=4,
                               unique_by=lambda o: o.order_id))
    raws = _raws(channel, batch)
    blob = page_of(channel, raws)
    adapter = ADAPTERS[channel]
    whole = adapter.parse_page(adapter.decode(blob), page_no=1, page_size=3)
    held = {o.order_id: o.modified_at for o in whole.orders
            if data.draw(st.booleans(), label=f"known {o.order_id}")}
    stale = data.draw(st.sampled_from(whole.orders)) if whole.orders else None
    versions = dict(held)
    if stale is not None and stale.order_id not in held:  # an older version: converted
        versions[stale.order_id] = stale.modified_at - timedelta(seconds=1)
    shops = {o.order_id: o.shop for o in whole.orders}

    def known(shop, order_id):
        return versions.get(order_id) if shops.get(order_id) == shop else None

    sifted = adapter.parse_page(adapter.decode(blob), page_no=1, page_size=3, known=known)
    assert sifted.orders == [o for o in whole.orders
                             if held.get(o.order_id) != o.modified_at]
    assert sorted(sifted.known) == sorted(held.items())
    assert (sifted.has_next, sifted.total, sifted.quarantined) == (
        whole.has_next, whole.total, whole.quarantined)
    ordinary = adapter.parse_page(orjson.loads(blob), page_no=1, page_size=3,
                                  known=known)  # the ordinary path converts all
    assert ordinary.orders == whole.orders and not ordinary.known
