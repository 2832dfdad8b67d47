"""Address normalisation and completeness checks on jionlp's division table."""

from __future__ import annotations

import pytest

from hub.domain.address import (
    address_problems,
    check_address,
    divisions,
    is_remote,
    normalise_city,
    normalise_province,
)
from hub.domain.order import Receiver

GOOD = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "street": "西溪街道",
        "detail": "文三路100号5幢301室"}


def receiver(**changes) -> Receiver:
    return Receiver(name="张三", phone="13812345678", **{**GOOD, **changes})


def test_the_table_is_built_once_and_knows_every_province():
    assert divisions() is divisions()
    full = set(divisions().provinces.values())
    assert len(full) == 34
    assert {"新疆维吾尔自治区", "北京市", "广西壮族自治区", "香港特别行政区"} <= full


@pytest.mark.parametrize(("given", "full"), [
    ("北京", "北京市"), ("北京市", "北京市"), ("新疆", "新疆维吾尔自治区"),
    ("内蒙古", "内蒙古自治区"), ("广西", "广西壮族自治区"), (" 浙江省 ", "浙江省"),
    ("浙江", "浙江省"), ("火星", None), ("", None),
])
def test_province_names_and_aliases_normalise(given, full):
    assert normalise_province(given) == full


@pytest.mark.parametrize(("province", "city", "full"), [
    ("浙江省", "杭州", "杭州市"), ("浙江", "杭州市", "杭州市"), ("北京", "北京市", "北京市"),
    ("北京市", "北京", "北京市"), ("上海市", "市辖区", "上海市"), ("湖北省", "仙桃市", "仙桃市"),
    ("新疆", "乌鲁木齐", "乌鲁木齐市"), ("浙江省", "南京市", None), ("火星", "杭州市", None),
])
def test_city_must_lie_in_its_province(province, city, full):
    assert normalise_city(province, city) == full


def test_a_complete_address_has_no_problem():
    assert check_address(receiver()) == []
    assert check_address(receiver(province="北京", city="北京市", district="朝阳区",
                                  street="", detail="建国路88号")) == []
    assert check_address(receiver(detail="杭州市西湖区文三路1号")) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"district": ""}, "district missing"),
    ({"district": "  "}, "district missing"),
    ({"street": "", "detail": "1号"}, "street and detail too short"),
    ({"street": " ", "detail": " 12号 "}, "street and detail too short"),
    ({"street": "", "detail": "浙江省"}, "detail is only a place name"),
    ({"street": "", "detail": "杭州杭州杭州"}, "detail is only a place name"),
    ({"street": "", "detail": "浙江省杭州市西湖区"}, "detail is only a place name"),
    ({"province": "火星"}, "province 火星 unknown"),
    ({"province": ""}, "province (empty) unknown"),
    ({"city": "南京市"}, "city 南京市 is not in 浙江省"),
])
def test_each_incomplete_address_is_named(changes, problem):
    assert problem in check_address(receiver(**changes))


def test_a_masked_detail_is_not_mistaken_for_a_place_name():
    assert check_address(receiver(street="", detail="浙*******")) == []


def test_problems_from_plain_fields_match_the_receiver_form():
    assert address_problems("浙江", "北京市", "", "", "浙江省") == check_address(
        receiver(province="浙江", city="北京市", district="", street="", detail="浙江省"))


@pytest.mark.parametrize(("province", "remote"), [
    ("新疆", True), ("新疆维吾尔自治区", True), ("西藏自治区", True), ("内蒙古自治区", True),
    ("宁夏回族自治区", True), ("甘肃省", True), ("青海", True), ("浙江省", False), ("", False),
])
def test_remote_regions_match_on_prefix_and_normalised_name(province, remote):
    regions = ("新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏")
    assert is_remote(province, regions) is remote


def test_a_full_name_in_the_table_matches_an_alias_in_the_order():
    assert is_remote("新疆", ("新疆维吾尔自治区",))
    assert not is_remote("西藏", ("新疆维吾尔自治区",))


# The prefecture-level cities with no district level: towns and streets sit directly under
# the city, so a complete address there has a town or street instead of a district.
NO_DISTRICT = [("广东省", "东莞市", "长安镇", "长青南路88号"),
               ("广东", "中山市", "古镇镇", "中兴大道1号灯饰城3楼"),
               ("海南省", "儋州市", "那大镇", "中兴大街66号"),
               ("甘肃省", "嘉峪关市", "新城镇", "新城村3组18号"),
               ("广东省", "东莞", "南城街道", "鸿福路200号海德广场")]


def test_the_cities_without_districts_are_known():
    assert {"东莞市", "中山市", "儋州市", "嘉峪关市"} <= divisions().no_district
    assert "杭州市" not in divisions().no_district


@pytest.mark.parametrize(("province", "city", "town", "detail"), NO_DISTRICT)
def test_a_city_without_districts_is_complete_with_a_town_and_detail(province, city, town,
                                                                      detail):
    assert check_address(receiver(province=province, city=city, district="", street=town,
                                  detail=detail)) == []
    # a town given where the marketplace puts the district is fine too
    assert check_address(receiver(province=province, city=city, district=town, street="",
                                  detail=detail)) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"street": "", "detail": "长青南路88号"}, "town or street missing (东莞市 has no districts)"),
    ({"street": " ", "detail": "长青南路88号"}, "town or street missing"),
    ({"street": "长安镇", "detail": ""}, "street and detail too short"),
    ({"street": "", "detail": "东莞市"}, "detail is only a place name"),
])
def test_an_incomplete_address_in_a_city_without_districts_still_fails(changes, problem):
    address = receiver(**{"province": "广东省", "city": "东莞市", "district": "", **changes})
    assert any(problem in p for p in check_address(address))


def test_other_cities_still_need_a_district_with_a_street():
    assert check_address(receiver(district="", street="西溪街道")) == ["district missing"]
