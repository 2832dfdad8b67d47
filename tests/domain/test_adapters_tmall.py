"""Tmall adapter on realistic ``taobao.trades.sold.increment.get`` samples."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest

from hub.domain.adapters import MarketplaceError, ParseError, tmall
from hub.domain.order import SHANGHAI, Order

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str):
    return orjson.loads((SAMPLES / name).read_bytes())


@pytest.fixture(scope="module")
def page():
    return tmall.parse_page(sample("tmall_page.json"))


def by_id(page, order_id: str) -> Order:
    return next(o for o in page.orders if o.order_id == order_id)


def test_page_totals_and_quarantine(page):
    assert page.total == 5 and page.has_next is True
    assert [o.order_id for o in page.orders] == [
        "3961220384457195213", "3961220384457195214", "3961220384457195215",
        "3961220384457195216"]
    [bad] = page.quarantined
    assert bad.error.path == "[4].orders.order[1].num"
    assert bad.error.order_id == "3961220384457195217"
    assert "two" in bad.error.reason
    assert bad.raw["tid"] == 3961220384457195217


def test_multi_line_trade(page):
    order = by_id(page, "3961220384457195213")
    assert order.channel == "tmall" and order.shop == "明灯家居旗舰店"
    assert order.status == "paid" and order.order_type == "normal"
    assert order.created_at == datetime(2026, 11, 11, 0, 0, 3, tzinfo=SHANGHAI)
    assert order.paid_at.utcoffset().total_seconds() == 8 * 3600
    assert [(i.item_id, i.sku, i.outer_sku, i.quantity, i.price_fen) for i in order.items] == [
        ("680112345678", "4987654321012", "LAMP-CEIL-60W", 1, 39900),
        ("680112349999", "", "BULB-E27", 2, 10900)]  # an item without SKUs: no SKU id
    a = order.amounts
    assert (a.total_fen, a.discount_fen, a.freight_fen, a.paid_fen) == (61700, 5000, 0, 56700)
    r = order.receiver
    assert (r.province, r.city, r.district, r.street, r.detail) == (
        "浙江省", "杭州市", "西湖区", "西溪街道", "文三路100号5幢301室")
    assert order.buyer.id == "AAHk5d-EAAeGwJedwSFu0XXX" and order.buyer.tier == "normal"
    assert order.source == "wap,wap" and order.delivery == "standard"


def test_presale_deposit_counts_the_step_paid_fee(page):
    order = by_id(page, "3961220384457195214")
    assert order.order_type == "presale_deposit" and order.status == "unpaid"
    assert order.amounts.paid_fen == 5000 and order.amounts.total_fen == 129900
    assert order.amounts.freight_fen == 2000 and order.receiver.street == ""


def test_presale_final_counts_the_payment_and_next_day_is_express(page):
    order = by_id(page, "3961220384457195215")
    assert order.order_type == "presale_final" and order.amounts.paid_fen == 89900
    assert order.delivery == "express"
    assert order.buyer.id == "w**"  # no open uid: the nick


def test_live_room_same_city_with_missing_optional_fields(page):
    order = by_id(page, "3961220384457195216")
    assert order.order_type == "live_flash" and order.source == "live_room"
    assert order.source_detail == "7301188" and order.delivery == "same_city"
    assert order.paid_at is None and order.warehouse_hint == "SZ-NS-01"
    assert order.amounts.total_fen == 5990 and order.amounts.discount_fen == 0
    assert order.receiver.name == "" and order.receiver.phone == ""


def test_parsed_orders_are_valid_models(page):
    for order in page.orders:
        assert Order.model_validate(order.model_dump()) == order


def test_throttled_envelope():
    with pytest.raises(MarketplaceError) as caught:
        tmall.parse_page(sample("tmall_throttled.json"))
    err = caught.value
    assert err.throttled and err.retryable and err.code == "7"
    assert err.sub_code == "accesscontrol.limited-by-app-access-count"
    assert "1 more seconds" in err.message


def test_session_error_is_neither_throttled_nor_retryable():
    with pytest.raises(MarketplaceError) as caught:
        tmall.parse_any(sample("tmall_session_error.json"))
    assert caught.value.code == "27" and not caught.value.retryable
    assert not caught.value.throttled


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"tid": None, "tid_str": None}, "tid", "missing"),
    ({"created": "2026/11/11 00:00:03"}, "created", "YYYY-MM-DD"),
    ({"total_fee": "-1.00"}, "total_fee", "must not be negative"),
    ({"total_fee": "abc"}, "total_fee", "not an amount"),
    ({"payment": "1.005"}, "payment", "at most 2 decimals"),
    ({"orders": {"order": []}}, "orders.order", "at least one item"),
    ({"orders": None}, "orders", "expected an object"),
    ({"status": "SOMETHING_NEW"}, "status", "unknown trade status"),
    ({"buyer_open_uid": None, "buyer_nick": None}, "buyer_nick", "missing"),
    ({"receiver_city": ["杭州"]}, "receiver_city", "expected a string"),
])
def test_field_errors_name_the_path(change, path, reason):
    trade = dict(sample("tmall_page.json")["trades_sold_increment_get_response"]["trades"]
                 ["trade"][0])
    trade.update(change)
    with pytest.raises(ParseError) as caught:
        tmall.parse_order(trade)
    assert caught.value.path == path and reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: ")


def test_one_trade_and_a_list_are_accepted():
    trades = sample("tmall_page.json")["trades_sold_increment_get_response"]["trades"]["trade"]
    assert len(tmall.parse_any(trades[0]).orders) == 1
    listed = tmall.parse_any(trades)
    assert len(listed.orders) == 4 and listed.quarantined[0].error.path.startswith("[4].")
    assert tmall.parse_order(trades[0], "other-shop").shop == "other-shop"


@pytest.mark.parametrize(("line", "ids"), [
    ({"outer_sku_id": "LT-CEIL-24W"}, ("", "", "LT-CEIL-24W")),  # only the merchant's code
    ({"num_iid": 680112345678, "sku_id": 4987654321012}, ("680112345678", "4987654321012", "")),
    ({"num_iid": "680112345678"}, ("680112345678", "", "")),
    ({"outer_iid": "LT-CEIL"}, ("", "", "LT-CEIL")),  # the item's outer code
])
def test_a_line_with_only_an_outer_code_or_only_platform_ids_is_read(line, ids):
    trade = dict(sample("tmall_page.json")["trades_sold_increment_get_response"]["trades"]
                 ["trade"][0])
    trade["orders"] = {"order": [{**line, "num": 3, "price": "10.00"}]}
    trade.update(total_fee="30.00", payment="30.00", discount_fee="0.00", post_fee="0.00")
    item = tmall.parse_order(trade).items[0]
    assert (item.item_id, item.sku, item.outer_sku, item.quantity) == (*ids, 3)


def test_a_line_that_names_nothing_is_refused():
    trade = dict(sample("tmall_page.json")["trades_sold_increment_get_response"]["trades"]
                 ["trade"][0])
    trade["orders"] = {"order": [{"num": 1, "price": "10.00", "sku_id": ""}]}
    with pytest.raises(ParseError) as caught:
        tmall.parse_order(trade)
    assert caught.value.path == "orders.order[0].sku_id"
    assert "a SKU id, an item id or an outer code" in caught.value.reason
