"""Who buys and where they live: real Chinese divisions (jionlp's table), valid phones,
and the planted flaws (incomplete addresses, invalid phones) the generator labels."""

from __future__ import annotations

import contextlib
import io
from functools import cache

import numpy as np

from hub.domain.order import Receiver

REMOTE = ("新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区", "甘肃省", "宁夏回族自治区")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
ROADS = ("人民路", "解放路", "中山路", "建设路", "文三路", "学院路", "长江路", "和平路")


@cache
def places() -> dict[str, list[tuple[str, str]]]:
    """province -> [(city, district)] from jionlp's division table (loaded once)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        table = jionlp.china_location_loader()
    out: dict[str, list[tuple[str, str]]] = {}
    for province, pnode in table.items():
        pairs = []
        for city, cnode in pnode.items():
            if city.startswith("_") or not isinstance(cnode, dict):
                continue
            for district in cnode:
                if not district.startswith("_") and city not in ("省直辖行政区划",
                                                               "自治区直辖县级行政区划",
                                                               "省直辖县级行政区划"):
                    pairs.append((city, district))
        if pairs:
            out[province] = pairs
    return out


def phone(rng: np.random.Generator) -> str:
    return f"1{rng.choice(list('3456789'))}{rng.integers(0, 10**9):09d}"


def bad_phone(rng: np.random.Generator) -> str:
    kind = rng.integers(3)
    if kind == 0:
        return f"{rng.integers(10**6, 10**7)}"  # too short
    if kind == 1:
        return f"2{rng.integers(0, 10**10):010d}"  # does not start with 1
    return f"1{rng.choice(list('012'))}{rng.integers(0, 10**9):09d}"  # no such prefix


def name(rng: np.random.Generator) -> str:
    return SURNAMES[rng.integers(len(SURNAMES))] + "".join(
        GIVEN[i] for i in rng.integers(len(GIVEN), size=1 + rng.integers(2)))


def receiver(rng: np.random.Generator, *, province: str | None = None,
             city: str | None = None, remote: bool = False) -> Receiver:
    """A complete, valid address; ``remote`` picks a remote province."""
    table = places()
    if province is None:
        pool = [p for p in table if (p in REMOTE) == remote]
        province = pool[rng.integers(len(pool))]
    pairs = [pc for pc in table[province] if city is None or pc[0] == city]
    city_name, district = pairs[rng.integers(len(pairs))]
    road = ROADS[rng.integers(len(ROADS))]
    detail = f"{road}{rng.integers(1, 999)}号{rng.integers(1, 30)}幢{rng.integers(101, 2999)}室"
    return Receiver(name=name(rng), phone=phone(rng), province=province, city=city_name,
                    district=district, street=f"{road[:2]}街道", detail=detail)


def incomplete(rng: np.random.Generator, good: Receiver) -> Receiver:
    """The same receiver with one of the flaws the hub must catch."""
    kind = rng.integers(3)
    if kind == 0:
        return good.model_copy(update={"district": ""})
    if kind == 1:
        return good.model_copy(update={"street": "", "detail": good.city})
    return good.model_copy(update={"street": "", "detail": f"{rng.integers(1, 99)}号"})
