"""JD adapter on realistic ``jingdong.pop.order.search`` samples."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from hub.domain.adapters import MarketplaceError, ParseError, jd

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str):
    return orjson.loads((SAMPLES / name).read_bytes())


def records():
    return sample("jd_page.json")["jingdong_pop_order_search_responce"][
        "searchorderinfo_result"]["orderInfoList"]


@pytest.fixture(scope="module")
def page():
    return jd.parse_page(sample("jd_page.json"), page_no=1, page_size=4)


def test_page_total_paging_and_quarantine(page):
    assert page.total == 23 and page.has_next is True
    assert jd.parse_page(sample("jd_page.json"), page_no=6, page_size=4).has_next is False
    assert jd.parse_page(sample("jd_page.json")).has_next is False  # JD does not say
    assert [o.order_id for o in page.orders] == ["295012345678", "295012345679", "295012345680"]
    [bad] = page.quarantined
    assert bad.error.order_id == "295012345681"
    assert bad.error.path == "[3].itemInfoList[0].jdPrice"
    assert "2 decimals" in bad.error.reason


def test_plus_member_multi_line_and_address_detail(page):
    order = page.orders[0]
    assert order.shop == "10086" and order.status == "paid" and order.buyer.tier == "plus"
    assert [(i.item_id, i.sku, i.outer_sku, i.quantity, i.price_fen) for i in order.items] == [
        ("100012345600", "100012345678", "LAMP-DESK-01", 2, 19900),
        ("100012349900", "100012349999", "", 1, 6000)]
    a = order.amounts
    assert (a.total_fen, a.discount_fen, a.freight_fen, a.paid_fen) == (45800, 2000, 0, 43800)
    r = order.receiver
    assert (r.name, r.phone, r.province, r.city, r.district) == (
        "赵六", "18600003333", "北京", "朝阳区", "三环到四环之间")
    assert r.detail == "建国路88号SOHO现代城5号楼"
    assert order.delivery == "standard" and order.source == ""


def test_cancelled_order_without_payment_time_uses_the_telephone(page):
    order = page.orders[1]
    assert order.status == "cancelled" and order.paid_at is None
    assert order.receiver.phone == "021-5555-6666" and order.receiver.street == "漕河泾街道"
    assert order.receiver.detail == "宜山路700号" and order.buyer.tier == "normal"
    assert order.amounts.discount_fen == 0 and order.amounts.freight_fen == 0


def test_presale_deposit_from_a_live_room_with_express(page):
    order = page.orders[2]
    assert order.order_type == "presale_deposit" and order.source == "live_room"
    assert order.source_detail == "880012" and order.delivery == "express"
    assert order.amounts.paid_fen == 20000 and order.receiver.detail == "北京中路1号"


def test_gateway_error_and_failed_api_result():
    with pytest.raises(MarketplaceError) as caught:
        jd.parse_page(sample("jd_gateway_error.json"))
    assert caught.value.code == "19" and "access_token" in caught.value.message
    assert not caught.value.throttled
    with pytest.raises(MarketplaceError) as caught:
        jd.parse_any(sample("jd_api_failed.json"))
    assert caught.value.code == "10100021" and caught.value.message == "time span too long"


def test_throttling_codes():
    with pytest.raises(MarketplaceError) as caught:
        jd.parse_page({"error_response": {"code": "67", "zh_desc": "调用超限", "en_desc": ""}})
    assert caught.value.throttled and caught.value.retryable
    assert caught.value.message == "调用超限"


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"orderId": 12.5}, "orderId", "expected a string"),
    ({"orderState": None}, "orderState", "unknown order state"),
    ({"orderStartTime": 1762790405}, "orderStartTime", "YYYY-MM-DD"),
    ({"modified": "2026-13-01 00:00:00"}, "modified", "YYYY-MM-DD"),
    ({"consigneeInfo": "北京"}, "consigneeInfo", "expected an object"),
    ({"consigneeInfo": {"mobile": 18600003333.5}}, "consigneeInfo.mobile", "expected a string"),
    ({"itemInfoList": {"skuId": "1"}}, "itemInfoList", "expected a list"),
    ({"itemInfoList": [{"jdPrice": "1.00", "itemTotal": "1"}]}, "itemInfoList[0].skuId",
     "a line needs a SKU id, an item id or an outer code"),
    ({"itemInfoList": [{"skuId": "1", "jdPrice": "1.00", "itemTotal": "-1"}]},
     "itemInfoList[0].itemTotal", "expected an integer"),
    ({"orderTotalPrice": None}, "orderTotalPrice", "missing"),
    ({"pin": ""}, "pin", "missing"),
])
def test_field_errors_name_the_path(change, path, reason):
    raw = dict(records()[0])
    raw.update(change)
    with pytest.raises(ParseError) as caught:
        jd.parse_order(raw)
    known_id = raw["orderId"] if isinstance(raw["orderId"], str) else ""
    assert (caught.value.path, caught.value.order_id) == (path, known_id)
    assert reason in caught.value.reason


@pytest.mark.parametrize(("line", "ids"), [
    ({"outerSkuId": "LT-DESK-12W"}, ("", "", "LT-DESK-12W")),  # only the merchant's code
    ({"wareId": 100012345600, "skuId": "100012345678"}, ("100012345600", "100012345678", "")),
    ({"wareId": "100012345600"}, ("100012345600", "", "")),
])
def test_a_line_with_only_an_outer_code_or_only_platform_ids_is_read(line, ids):
    raw = dict(records()[0])
    raw["itemInfoList"] = [{**line, "jdPrice": "199.00", "itemTotal": "2"}]
    item = jd.parse_order(raw).items[0]
    assert (item.item_id, item.sku, item.outer_sku, item.quantity) == (*ids, 2)
