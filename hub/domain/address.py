"""Chinese receiver addresses: names normalised and checked against the division table.

The table (provinces, cities, their full names, aliases and admin codes) comes from
jionlp's ``china_location_loader()``, read ONCE into plain dicts; every per-order check
is then a few dict/set lookups. jionlp's address *parsers* take milliseconds an order
and are never called here.

Why jionlp and not cpca: jionlp is maintained (a 2026-10 release) and ships the division
table itself, with admin codes and aliases (新疆 -> 新疆维吾尔自治区, 杭州 -> 杭州市);
cpca's last release is from 2021 and it drags pandas in. jionlp is imported lazily, on
the first check, so that importing the domain stays cheap.

>>> normalise_province("新疆"), normalise_city("北京市", "北京")
('新疆维吾尔自治区', '北京市')
>>> is_remote("新疆维吾尔自治区", ("新疆", "西藏"))
True
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

# Cities marketplaces use for the municipalities beside the municipality's own name.
_MUNICIPAL_CITY = ("市辖区", "县", "郊县")
_DIRECT = ("省直辖行政区划", "自治区直辖县级行政区划", "省直辖县级行政区划")


@dataclass(frozen=True, slots=True)
class Divisions:
    provinces: dict[str, str]  # full name or alias -> full name
    cities: dict[str, dict[str, str]]  # province full name -> (city name or alias -> full)
    names: dict[str, tuple[str, ...]]  # full name -> its spellings, longest first
    codes: dict[str, str]  # province / city full name -> admin code
    # cities with no district level (东莞市, 中山市, 儋州市, 嘉峪关市): towns and streets
    # sit directly under the city, so an address there has no district
    no_district: frozenset[str] = frozenset()


def _aliases(node: dict[str, Any]) -> list[str]:
    alias = node.get("_alias") or []
    return [a for a in ([alias] if isinstance(alias, str) else alias) if a]


@cache
def divisions() -> Divisions:
    """The province/city table, built once from jionlp (whose import prints a banner)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        table = jionlp.china_location_loader()
    provinces: dict[str, str] = {}
    cities: dict[str, dict[str, str]] = {}
    names: dict[str, set[str]] = {}
    codes: dict[str, str] = {}
    no_district: set[str] = set()

    def spell(full: str, node: dict[str, Any], into: dict[str, str]) -> None:
        codes.setdefault(full, str(node.get("_admin_code", "")))
        for name in (full, *_aliases(node)):
            into.setdefault(name, full)
            names.setdefault(full, set()).add(name)

    for province, pnode in table.items():
        spell(province, pnode, provinces)
        own = cities[province] = {}
        for city, cnode in pnode.items():
            if city.startswith("_"):
                continue
            if city in _DIRECT:  # county-level cities under the province (仙桃市, 济源市)
                for county, knode in cnode.items():
                    if not county.startswith("_"):
                        spell(county, knode, own)
                continue
            spell(city, cnode, own)
            children = [k for k in cnode if not k.startswith("_")]
            if children and all("直辖" in k for k in children):  # only 市直辖行政区划
                no_district.add(city)
        if len(set(own.values())) == 1:  # a municipality: 北京市 / 北京 / 市辖区
            for name in (*_MUNICIPAL_CITY, *names[province]):
                own.setdefault(name, next(iter(own.values())))
    longest = {full: tuple(sorted(spelled, key=len, reverse=True))
               for full, spelled in names.items()}
    return Divisions(provinces, cities, longest, codes, frozenset(no_district))


def normalise_province(name: str) -> str | None:
    """The full province name for a full name or an alias; None if unknown."""
    return divisions().provinces.get(name.strip())


def normalise_city(province: str, city: str) -> str | None:
    """The full city name if ``city`` lies in ``province``; None if not (or unknown)."""
    table = divisions()
    full = table.provinces.get(province.strip())
    return table.cities[full].get(city.strip()) if full else None


def _place(province: str, city: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(province full name, city full name, their spellings) for a pair, memoised."""
    key = (province, city)
    place = _PLACES.get(key)
    if place is None:
        table = divisions()
        full = table.provinces.get(province.strip())
        city_full = table.cities[full].get(city.strip()) if full else None
        spelled = tuple(sorted({n for p in (full, city_full, province.strip(), city.strip())
                                if p for n in table.names.get(p, (p,))}, key=len, reverse=True))
        place = _PLACES[key] = (full, city_full, spelled)
        if len(_PLACES) > 100_000:  # garbage spellings must not grow it without bound
            _PLACES.clear()
    return place


_PLACES: dict[tuple[str, str], tuple[str | None, str | None, tuple[str, ...]]] = {}


def address_problems(province: str, city: str, district: str, street: str,
                     detail: str) -> list[str]:
    """What makes an address incomplete, as short reasons (empty when it is fine).

    >>> address_problems("浙江省", "杭州市", "西湖区", "西溪街道", "文三路100号")
    []
    >>> address_problems("浙江", "北京市", "", "", "浙江省")
    ['district missing', 'street and detail too short', 'detail is only a place name', \
'city 北京市 is not in 浙江省']

    A city with no district level needs its town or street instead of a district:

    >>> address_problems("广东省", "东莞市", "", "长安镇", "长青南路88号")
    []
    >>> address_problems("广东省", "东莞市", "", "", "长青南路88号")
    ['town or street missing (东莞市 has no districts)']
    """
    full, city_full, spelled = _PLACES.get((province, city)) or _place(province, city)
    problems = []
    if not district or district.isspace():
        if city_full not in divisions().no_district:
            problems.append("district missing")
        elif not street or street.isspace():
            problems.append(f"town or street missing ({city_full} has no districts)")
    detail = detail.strip()
    if len(street.strip()) + len(detail) < 5:
        problems.append("street and detail too short")
    if detail and detail.startswith(spelled) and "*" not in detail:
        for name in (*spelled, district.strip()):
            if name:
                detail = detail.replace(name, "")
        if not detail.strip(" ,，"):
            problems.append("detail is only a place name")
    if full is None:
        problems.append(f"province {province or '(empty)'} unknown")
    elif city_full is None:
        problems.append(f"city {city or '(empty)'} is not in {full}")
    return problems


def check_address(receiver: Any) -> list[str]:
    """``address_problems`` of a ``Receiver``; empty when the address is complete."""
    return address_problems(receiver.province, receiver.city, receiver.district,
                         receiver.street, receiver.detail)


@lru_cache(maxsize=64)
def remote_provinces(remote_regions: tuple[str, ...]) -> frozenset[str]:
    """Every spelling of every province that a prefix in ``remote_regions`` names."""
    table = divisions()
    prefixes = tuple(remote_regions)
    out = set(remote_regions)
    for full, spelled in table.names.items():
        if full in table.provinces and any(n.startswith(prefixes) for n in spelled):
            out.update(spelled)
    return frozenset(out)


def is_remote(province: str, remote_regions: tuple[str, ...]) -> bool:
    """Whether ``province`` is in the rule set's remote-region table (prefix match on the
    name or its normalised form: 新疆 matches 新疆维吾尔自治区 and the other way round)."""
    return province in remote_provinces(tuple(remote_regions)) or \
        province.startswith(tuple(remote_regions))
