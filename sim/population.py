"""Who buys, where they live and what they buy: real Chinese divisions (jionlp's table,
loaded once), valid phones, buyers who come back, baskets of each shop's listings
(``sim.catalogue``) and their amounts, the flaws the generator plants (incomplete
addresses, invalid phones, wrong payments) and the valid oddities it plants as hard
negatives (rare phone prefixes, renamed districts, the cities with no district level,
long addresses, free gift lines).

Random numbers come in bulk: each order gets a ``Dice``, a row of uniform numbers it
uses in turn, so building an order costs no NumPy call.

>>> import numpy as np
>>> d = Dice(np.random.default_rng(1).random(8).tolist())
>>> p = phone(d)
>>> len(p), p[0], p[1] in "3456789"
(11, '1', True)
"""

from __future__ import annotations

import contextlib
import io
import math
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import chain

import numpy as np

from hub.domain import Amounts, Buyer, Item, Receiver
from hub.domain import build_model as build

Place = tuple[str, str, str]  # province, city, district (full names from the table);
# district "" in a city with no district level (东莞市): its towns sit under the city
SKIPPED_PROVINCES = ("香港特别行政区", "澳门特别行政区", "台湾省")  # not served from the mainland
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉建文"
ROADS = ("人民路", "解放路", "中山路", "建设路", "文三路", "学院路", "长江路", "和平路",
         "新华路", "胜利路", "青年路", "朝阳路", "花园路", "光明路", "幸福路", "东风路")
ESTATES = ("阳光", "金色家园", "翠苑", "东方明珠", "绿城", "万科城", "锦绣", "桂花园")
NEW = ("new_first_order",)
TOWNS = ("城关", "新城", "东湖", "西湖", "南苑", "北苑", "中心", "滨江", "高新", "长安")
# Valid mobile prefixes that are rare in orders: data-card, virtual-operator and newer
# ranges (all 1[3-9]..., so valid by the definition).
RARE_PREFIXES = ("141", "145", "146", "147", "148", "149", "162", "165", "167", "170", "171",
                 "172", "190", "191", "192", "196", "197")
# Districts created or renamed since 2012, valid today (kept only where the table has them).
RENAMED = {
    ("浙江省", "杭州市"): ("临平区", "钱塘区", "富阳区", "临安区"),
    ("浙江省", "宁波市"): ("奉化区",), ("浙江省", "温州市"): ("洞头区",),
    ("浙江省", "绍兴市"): ("柯桥区", "上虞区"), ("广东省", "深圳市"): ("光明区", "坪山区"),
    ("广东省", "广州市"): ("从化区", "增城区"), ("山东省", "济南市"): ("莱芜区", "钢城区"),
    ("陕西省", "西安市"): ("鄠邑区", "高陵区"), ("江苏省", "南京市"): ("溧水区", "高淳区"),
    ("江苏省", "苏州市"): ("姑苏区", "吴江区"), ("北京市", "北京市"): ("密云区", "延庆区"),
    ("上海市", "上海市"): ("崇明区",), ("福建省", "福州市"): ("长乐区",),
    ("海南省", "三亚市"): ("海棠区", "吉阳区", "天涯区", "崖州区"),
    ("重庆市", "重庆市"): ("璧山区", "铜梁区", "潼南区", "荣昌区", "开州区", "梁平区", "武隆区"),
    ("西藏自治区", "拉萨市"): ("堆龙德庆区", "达孜区"),
    ("新疆维吾尔自治区", "吐鲁番市"): ("高昌区",), ("新疆维吾尔自治区", "哈密市"): ("伊州区",),
}
NOTES = ("快递请放丰巢快递柜，电话打不通请放门卫室，谢谢",
         "工作日白天家里没人，请送到公司前台或放驿站",
         "小区东门进，左转第二栋，电梯坏了请打电话我下楼取",
         "送货前请提前半小时电话联系，周末全天在家",
         "收件人是我母亲，年纪大了请耐心敲门，不要放在门口")  # long_address: for the courier


def altered(model, **changes):
    """A frozen model with some fields changed, without validating again (the generator
    only puts checked values in; the trace reader validates every order it reads)."""
    return build(type(model), {**model.__dict__, **changes})


class Dice:
    """Uniform numbers in [0, 1) used in turn. A row that runs out goes on with numbers
    from a generator seeded by ``key`` (so the same key always gives the same numbers)."""

    __slots__ = ("u",)

    def __init__(self, row: list[float], key: tuple[int, ...] = (0,)) -> None:
        self.u = chain(row, _more(key, len(row))).__next__  # the next number

    def below(self, n: int) -> int:
        return min(int(self.u() * n), n - 1)

    def pick(self, seq: Sequence):
        return seq[min(int(self.u() * len(seq)), len(seq) - 1)]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self.u()

    def exp(self, mean: float) -> float:
        return -mean * math.log1p(-self.u())


def _more(key: tuple[int, ...], used: int) -> Iterator[float]:
    rng = np.random.default_rng([*key, used])
    while True:
        yield from rng.random(32).tolist()


class Mix:
    """A categorical choice from a table of shares (``rest``: the name of what is left
    when the shares add up to less than ``total``)."""

    __slots__ = ("_cum", "_names")

    def __init__(self, shares: Mapping, total: float | None = None, rest: str = "") -> None:
        names, cum, acc = [], [], 0.0
        for name, share in shares.items():
            if share > 0:
                acc += share
                names.append(name)
                cum.append(acc)
        if total is not None and acc < total:
            names.append(rest)
            cum.append(total)
        self._names, self._cum = tuple(names), tuple(c / cum[-1] for c in cum)

    def choose(self, d: Dice):
        return self.at(d.u())

    def at(self, u: float):
        """The choice a uniform number ``u`` in [0, 1) makes."""
        return self._names[min(bisect_right(self._cum, u), len(self._names) - 1)]


@cache
def division_table() -> dict:
    """jionlp's province -> city -> district table (its import prints a banner)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        return jionlp.china_location_loader()


@dataclass(frozen=True)
class Places:
    """Real (province, city, district) triples by region class; ``bare`` and ``renamed``
    are the oddities, kept apart so that ordinary orders never land on them."""

    inland: tuple[Place, ...]  # not in a remote province
    remote: tuple[Place, ...]
    local: tuple[Place, ...]  # in the warehouse city: same-city delivery possible
    bare: tuple[Place, ...] = ()  # the cities with no district level, district ""
    renamed: tuple[Place, ...] = ()  # districts created or renamed lately (RENAMED)

    def of(self, region: str) -> tuple[Place, ...]:
        return getattr(self, region)


def _without_districts(cnode: dict) -> bool:
    """A city whose only child is the table's '市直辖行政区划' (东莞市, 中山市, 儋州市,
    嘉峪关市): towns and streets sit directly under the city."""
    children = [k for k in cnode if not k.startswith("_")]
    return bool(children) and all("直辖" in k for k in children)


@cache
def no_district_cities() -> frozenset[tuple[str, str]]:
    """(province, city) of every city of the table with no district level."""
    return frozenset((province, city) for province, pnode in division_table().items()
                     if province not in SKIPPED_PROVINCES for city, cnode in pnode.items()
                     if not city.startswith("_") and isinstance(cnode, dict)
                     and _without_districts(cnode))


def towns(province: str, city: str) -> tuple[str, ...]:
    """The towns (镇) and streets (街道) of a city with no district level."""
    return _towns()[(province, city)]


@cache
def _towns() -> dict[tuple[str, str], tuple[str, ...]]:
    """The towns of every city with no district level, from jionlp's detailed table
    (loaded once, on first use: it takes most of a second)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        table = jionlp.china_location_loader(detail=True)
    out = {}
    for province, city in sorted(no_district_cities()):
        out[(province, city)] = tuple(sorted(
            town for district, dnode in table[province][city].items()
            if not district.startswith("_") and isinstance(dnode, dict)
            for town in dnode if town.endswith(("镇", "街道"))))
    return out


@cache
def places(warehouse: tuple[str, str], remote_prefixes: tuple[str, ...]) -> Places:
    """The place table; ValueError if the warehouse is not a city the generator can place
    (not in the table, or in a remote province)."""
    inland: list[Place] = []
    remote: list[Place] = []
    bare: list[Place] = []
    for province, pnode in division_table().items():
        if province in SKIPPED_PROVINCES:
            continue
        for city, cnode in pnode.items():
            if city.startswith("_") or not isinstance(cnode, dict) or "直辖" in city:
                continue  # county-level cities directly under a province are left out
            if _without_districts(cnode):
                bare.append((province, city, ""))
                continue
            for district in cnode:
                if not district.startswith("_") and "直辖" not in district:
                    into = remote if province.startswith(remote_prefixes) else inland
                    into.append((province, city, district))
    known = {*inland, *remote}
    renamed = tuple((p, c, d) for (p, c), names in RENAMED.items() for d in names
                    if (p, c, d) in known)
    warehouse = tuple(warehouse)
    local = tuple(p for p in inland if p[:2] == warehouse) or tuple(
        p for p in bare if p[:2] == warehouse and not p[0].startswith(remote_prefixes))
    if not local:
        raise ValueError(f"{warehouse[0]} {warehouse[1]} is not a city of the division "
                         "table outside the remote provinces")
    return Places(tuple(inland), tuple(remote), local, tuple(bare), renamed)


def phone(d: Dice) -> str:
    """A valid mainland mobile number: 1[3-9] and nine digits."""
    return str(13_000_000_000 + int(d.u() * 7_000_000_000))


def rare_phone(d: Dice) -> str:
    """A valid mobile number with a prefix seldom seen in orders (170, 141, 192, ...)."""
    return f"{d.pick(RARE_PREFIXES)}{d.below(10**8):08d}"


def bad_phone(d: Dice) -> str:
    """A number no courier can call; never one that only looks odd (spaces, +86, masks)."""
    good, kind = phone(d), d.below(4)
    if kind == 0:
        return good[:10]  # a digit short
    if kind == 1:
        return good + str(d.below(10))  # a digit too many (never a leading 86)
    if kind == 2:
        return f"1{'012'[d.below(3)]}{good[2:]}"  # no such mobile prefix
    return f"0{571 + d.below(300)}-{d.below(10**7) + 10**7 * (2 + d.below(7))}"  # a landline


@cache
def _names() -> tuple[str, ...]:
    """Every surname with a one- or two-character given name."""
    given = [*GIVEN, *(a + b for a in GIVEN for b in GIVEN)]
    return tuple(s + g for s in SURNAMES for g in given)


_STREETS = tuple(f"{t}街道" for t in TOWNS)


def receiver(d: Dice, place: Place) -> Receiver:
    """A complete address at ``place``: street and a detail of five characters or more.
    In a city with no district level the street is one of its real towns (长安镇)."""
    u = d.u()
    if u < 0.6:
        detail = f"{d.pick(ROADS)}{1 + d.below(999)}号"
        if u < 0.42:
            detail = f"{detail}{1 + d.below(30)}幢{101 + d.below(2800)}室"
    else:
        detail = f"{d.pick(ESTATES)}小区{1 + d.below(40)}栋{101 + d.below(3200)}"
    return build(Receiver, {"name": d.pick(_names()), "phone": phone(d), "province": place[0],
                            "city": place[1], "district": place[2],
                            "street": d.pick(_STREETS if place[2] else towns(*place[:2])),
                            "detail": detail})


def moved(d: Dice, good: Receiver, place: Place) -> Receiver:
    """``good``'s receiver (name, phone) at a new complete address at ``place``."""
    to = receiver(d, place)
    return altered(to, name=good.name, phone=good.phone)


def long_detail(d: Dice) -> str:
    """A complete detail of 40 characters and more: road, estate, building, unit, room
    and a note for the courier."""
    return (f"{d.pick(ROADS)}{1 + d.below(999)}号{d.pick(ESTATES)}小区{d.pick(TOWNS)}苑"
            f"{1 + d.below(40)}栋{1 + d.below(6)}单元{101 + d.below(3200)}室（{d.pick(NOTES)}）")


def incomplete(d: Dice, good: Receiver) -> Receiver:
    """``good`` with one flaw: no district (in a city with no district level: no town
    or street), a too-short detail, or only the city name."""
    kind = d.below(3)
    if kind == 0:
        return altered(good, district="") if good.district else altered(good, street="")
    if kind == 1:
        return altered(good, street="", detail=f"{1 + d.below(99)}号")
    return altered(good, detail=good.city if d.chance(0.5) else good.province + good.city)


@dataclass(slots=True)
class Customer:
    buyer: Buyer
    addresses: dict[str, list[Receiver]] = field(default_factory=dict)  # by region class


class Crowd:
    """The buyers of one channel: new ones (some on their first order), and returning
    ones who keep their tier and, mostly, their addresses."""

    def __init__(self, prefix: str, tiers: Mapping[str, float], new_first: float,
                 repeat: float) -> None:
        self.prefix, self.tiers = prefix, Mix(tiers)
        self.new_first, self.repeat = new_first, repeat
        self.returning: list[Customer] = []
        self.count = 0

    def customer(self, d: Dice) -> tuple[Customer, bool]:
        """(the customer, whether they ordered before today)."""
        u = d.u()
        if u < self.repeat and self.returning:
            return d.pick(self.returning), True
        self.count += 1
        first = self.repeat <= u < self.repeat + self.new_first
        buyer = build(Buyer, {"id": f"{self.prefix}{self.count:07d}",
                              "tier": self.tiers.choose(d), "tags": NEW if first else ()})
        customer = Customer(buyer)
        if not first:  # a first order's buyer does not come back the same day
            self.returning.append(customer)
        return customer, False

    @staticmethod
    def address(d: Dice, customer: Customer, region: str, where: Places) -> Receiver:
        book = customer.addresses.setdefault(region, [])
        if book and d.chance(0.8):
            return d.pick(book)
        fresh = receiver(d, d.pick(where.of(region)))
        book.append(fresh)
        return fresh


class Shelf:
    """The listings of each shop as baskets: 1-3 distinct listings by weight, 1-3 of
    each. Lines carry the listing's platform ids (``sku`` = the SKU id, ``item_id``) and
    its outer code ("" when the seller typed none)."""

    def __init__(self, listings: Sequence, stock: Mapping[str, int]) -> None:
        self.stock = stock  # merchant sku -> units at the start of the day
        self.shops: dict[tuple[str, str], tuple] = {}
        for x in listings:
            self.shops.setdefault((x.channel, x.shop), ())
            self.shops[(x.channel, x.shop)] += (x,)
        self.mixes = {k: Mix({n: x.weight for n, x in enumerate(v)})
                      for k, v in self.shops.items()}
        self.by_sku = {x.sku_id: x for x in listings}
        self._items: dict[tuple[str, int], Item] = {}

    def item(self, listing, quantity: int) -> Item:
        key = (listing.sku_id, quantity)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = Item(sku=listing.sku_id, outer_sku=listing.outer,
                                            quantity=quantity, price_fen=listing.price_fen,
                                            item_id=listing.item_id)
        return found

    def more(self, item: Item) -> Item:
        """One more of ``item``."""
        return self.item(self.by_sku[item.sku], item.quantity + 1)

    def free_gift(self, items: tuple[Item, ...], channel: str, shop: str) -> Item | None:
        """A gift line at 0 fen: the shop's single-SKU listing of the best-stocked merchant
        SKU not in ``items`` (None if there is none)."""
        taken = {i.sku for i in items}
        spare = [x for x in self.shops.get((channel, shop), ())
                 if x.single and x.sku_id not in taken]
        if not spare:
            return None
        x = max(spare, key=lambda x: self.stock.get(x.components[0][0], 0))
        return Item(sku=x.sku_id, outer_sku=x.outer, quantity=1, price_fen=0,
                    item_id=x.item_id)

    def basket(self, d: Dice, channel: str, shop: str) -> tuple[Item, ...]:
        offer, mix = self.shops[(channel, shop)], self.mixes[(channel, shop)]
        u = d.u()
        lines = min(1 + (u > 0.7) + (u > 0.92), len(offer))
        chosen: list[int] = []
        while len(chosen) < lines:
            n = mix.choose(d)
            if n not in chosen:
                chosen.append(n)
        return tuple(self.item(offer[n], 1 + (q > 0.8) + (q > 0.95)) for n in chosen
                     for q in (d.u(),))


def dup_key(buyer_id: str, items: tuple[Item, ...], r: Receiver) -> tuple:
    """What two orders share when one duplicates the other (but their creation times)."""
    lines = ((items[0].sku, items[0].quantity),) if len(items) == 1 else \
        tuple(sorted((i.sku, i.quantity) for i in items))
    return (buyer_id, lines, r.province, r.city, r.district, r.street, r.detail)


def due(a: Amounts) -> int:
    """What the buyer has to pay: total - discount + freight."""
    return a.total_fen - a.discount_fen + a.freight_fen


def amounts(d: Dice, items: tuple[Item, ...], same_city: bool, gift: bool) -> Amounts:
    """A shop coupon (none, 5%, 10% or 20 yuan off 200) and freight under 99 yuan; paid in
    full (``paid_fen`` is what is due)."""
    total = sum(i.price_fen * i.quantity for i in items)
    u = d.u()
    discount = 0 if gift or u < 0.5 else total * 5 // 100 if u < 0.7 else \
        total // 10 if u < 0.85 else (2000 if total >= 20000 else 0)
    freight = 0 if total - discount >= 9900 else (600 if same_city else 800)
    return build(Amounts, {"total_fen": total, "discount_fen": discount,
                           "freight_fen": freight, "paid_fen": total - discount + freight})


def wrong_payment(d: Dice, a: Amounts) -> int:
    """A paid amount that is wrong: nothing, 1-50 yuan short, or the coupon missed."""
    expected, u = due(a), d.u()
    if u < 0.25:
        return 0
    if u < 0.65:
        return max(expected - 100 * (1 + d.below(50)), 1)
    return expected + max(a.discount_fen, 500)
