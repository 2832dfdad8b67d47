"""Douyin adapter on realistic ``order.searchList`` samples."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest

from hub.domain.adapters import MarketplaceError, ParseError, douyin
from hub.domain.order import SHANGHAI

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str):
    return orjson.loads((SAMPLES / name).read_bytes())


def records():
    return sample("douyin_page.json")["data"]["shop_order_list"]


@pytest.fixture(scope="module")
def page():
    return douyin.parse_page(sample("douyin_page.json"))


def test_page_paging_from_zero_and_quarantine(page):
    assert page.total == 7 and page.has_next is True  # page 0 of size 3 out of 7
    last = sample("douyin_page.json")
    last["data"]["page"] = 2
    assert douyin.parse_page(last).has_next is False
    assert len(page.orders) == 3
    [bad] = page.quarantined
    assert bad.error.path == "[3].create_time" and "unix seconds" in bad.error.reason
    assert bad.error.order_id == "6936476692437472566"


def test_unix_times_tags_live_room_and_masked_receiver(page):
    order = page.orders[0]
    assert order.shop == "7784061" and order.status == "paid"
    assert order.created_at == datetime(2025, 11, 11, 0, 0, 5, tzinfo=SHANGHAI)
    assert order.paid_at == datetime(2025, 11, 11, 0, 0, 20, tzinfo=SHANGHAI)
    assert order.buyer.tags == ("new_first_order",) and order.buyer.tier == "normal"
    assert order.order_type == "live_flash" and order.source == "live_room"
    assert order.source_detail == "7301199282736633635"
    assert [(i.item_id, i.sku, i.outer_sku, i.quantity, i.price_fen) for i in order.items] == [
        ("3556718201736620111", "3410716076201730", "LAMP-FLOOR-01", 2, 8900)]
    a = order.amounts
    assert (a.total_fen, a.discount_fen, a.freight_fen, a.paid_fen) == (17800, 1000, 0, 16800)
    r = order.receiver
    assert (r.name, r.phone, r.detail) == ("周*", "*******8899", "莲前东****")
    assert (r.province, r.city, r.district, r.street) == ("福建省", "厦门市", "思明区", "莲前街道")
    assert order.warehouse_hint == "XM-01"


def test_decrypted_values_replace_the_masked_ones():
    raw = records()[0]
    plain = {raw["encrypt_post_tel"]: "13912348899", raw["encrypt_post_receiver"]: "周杰",
             raw["post_addr"]["encrypt_detail"]: "莲前东路168号"}
    r = douyin.parse_order(raw, decrypted=plain).receiver
    assert (r.name, r.phone, r.detail) == ("周杰", "13912348899", "莲前东路168号")
    assert douyin.ciphers({"code": 10000, "data": {"shop_order_list": [raw]}}) == [
        (raw["order_id"], c) for c in (raw["encrypt_post_receiver"], raw["encrypt_post_tel"],
                                       raw["post_addr"]["encrypt_detail"])]
    half = douyin.parse_order(raw, decrypted={raw["encrypt_post_tel"]: "13912348899"}).receiver
    assert (half.name, half.phone) == ("周*", "13912348899")


def test_presale_with_paid_final_phase(page):
    order = page.orders[1]
    assert order.order_type == "presale_final" and order.amounts.paid_fen == 129900
    raw = records()[1]
    raw["order_phase_list"][1]["pay_success"] = False
    assert douyin.parse_order(raw).order_type == "presale_deposit"


def test_hour_delivery_unpaid_short_video_with_missing_optional_fields(page):
    order = page.orders[2]
    assert order.status == "unpaid" and order.paid_at is None
    assert order.delivery == "same_city" and order.source == "shortvideo"
    assert order.source_detail == "7301234567890" and order.order_type == "normal"
    assert order.amounts.total_fen == 3490 and order.amounts.discount_fen == 0
    assert order.receiver.detail == "" and order.items[0].outer_sku == ""


def test_throttled_and_service_errors():
    with pytest.raises(MarketplaceError) as caught:
        douyin.parse_any(sample("douyin_throttled.json"))
    assert caught.value.throttled and caught.value.code == "50002"
    assert caught.value.sub_code == "isv.access-limited:app"
    with pytest.raises(MarketplaceError) as caught:
        douyin.parse_page(sample("douyin_service_error.json"))
    assert caught.value.retryable and not caught.value.throttled


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"order_status": "2"}, "order_status", "unknown order status"),
    ({"update_time": -5}, "update_time", "must be >= 1"),
    ({"pay_time": "soon"}, "pay_time", "expected an integer"),
    ({"pay_amount": 1.5}, "pay_amount", "expected an integer"),
    ({"doudian_open_id": None}, "doudian_open_id", "missing"),
    ({"post_addr": "福建"}, "post_addr", "expected an object"),
    ({"sku_order_list": []}, "sku_order_list", "at least one item"),
    ({"sku_order_list": [{"sku_id": 1, "origin_amount": 1, "item_num": 0}]},
     "sku_order_list[0].item_num", "must be >= 1"),
    ({"sku_order_list": [{"sku_id": True, "origin_amount": 1, "item_num": 1}]},
     "sku_order_list[0].sku_id", "expected a string"),
])
def test_field_errors_name_the_path(change, path, reason):
    raw = dict(records()[0])
    raw.update(change)
    with pytest.raises(ParseError) as caught:
        douyin.parse_order(raw)
    assert caught.value.path == path and reason in caught.value.reason
    assert caught.value.order_id == raw["order_id"]


@pytest.mark.parametrize(("line", "ids"), [
    ({"out_sku_id": "LT-STRIP-5M"}, ("", "", "LT-STRIP-5M")),  # only the merchant's code
    ({"product_id": 3556718201736620111, "sku_id": 1745123456789012345},
     ("3556718201736620111", "1745123456789012345", "")),
    ({"product_id": "3556718201736620111"}, ("3556718201736620111", "", "")),
])
def test_a_line_with_only_an_outer_code_or_only_platform_ids_is_read(line, ids):
    raw = dict(records()[0])
    raw["sku_order_list"] = [{**line, "origin_amount": 8900, "item_num": 2}]
    item = douyin.parse_order(raw).items[0]
    assert (item.item_id, item.sku, item.outer_sku, item.quantity) == (*ids, 2)


def test_a_line_that_names_nothing_is_refused():
    raw = dict(records()[0])
    raw["sku_order_list"] = [{"origin_amount": 8900, "item_num": 2}]
    with pytest.raises(ParseError) as caught:
        douyin.parse_order(raw)
    assert caught.value.path == "sku_order_list[0].sku_id"
