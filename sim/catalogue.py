"""The merchant's catalogue as the emulators see it: the scenario's merchant SKUs and,
per marketplace shop, its listings with platform ids in each marketplace's real shape.

Ids are made deterministically from the channel, the shop and the listing's code (a
hash, never the seed), so a listing keeps its ids across seeds, windows and runs:

- Tmall: ``num_iid`` 12 digits, ``sku_id`` 13 digits;
- JD: ``wareId`` 11 digits, ``skuId`` 12 digits;
- Douyin: ``product_id`` 19 digits, ``sku_id`` 16 digits.

Listings that share an ``item`` are SKUs (variants) of one marketplace item. SKU ids
never repeat across the whole catalogue (their lengths differ by marketplace), so a
platform SKU id alone names its listing.

The outer code (``outer``): a listing of one merchant SKU, quantity 1, carries that SKU's
code (it names the merchant SKU); a multi-pack or a bundle carries its listing code,
which names no merchant SKU. A share of the listings has none (``outer_codes``), the same
listings whatever the seed. ``by_outer_code``: a share of the listings whose outer code
names a merchant SKU is left out of the ERP's catalogue (mapped by the code alone).

>>> spec = [{"code": "LAMP", "item": "LAMP", "components": (("LT-DESK-12W", 1),),
...          "price_fen": 100, "weight": 1.0, "channels": ("tmall", "jd", "douyin")}]
>>> shelf = listings(spec, {"tmall": ["t"], "jd": ["j"], "douyin": ["d"]}, 1.0, 0.0)
>>> [(x.channel, len(x.item_id), len(x.sku_id), x.outer) for x in shelf]
[('tmall', 12, 13, 'LT-DESK-12W'), ('jd', 11, 12, 'LT-DESK-12W'), ('douyin', 19, 16, 'LT-DESK-12W')]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# channel -> ((item id digits, first digit), (sku id digits, first digit))
SHAPES = {"tmall": ((12, "6"), (13, "5")), "jd": ((11, "1"), (12, "1")),
          "douyin": ((19, "3"), (16, "1"))}
Parts = tuple[tuple[str, int], ...]  # (merchant sku, quantity), ...


@dataclass(frozen=True, slots=True)
class Listing:
    """One SKU of one marketplace shop and what it contains."""

    channel: str
    shop: str
    code: str  # the scenario's name of the listing
    item_id: str
    sku_id: str
    outer: str  # the outer code the seller typed ("" for none)
    components: Parts
    price_fen: int
    weight: float
    in_erp: bool = True  # False: the ERP leaves it out; its outer code names the SKU

    @property
    def single(self) -> bool:
        """One merchant SKU, quantity 1 (not a multi-pack, not a bundle)."""
        return len(self.components) == 1 and self.components[0][1] == 1

    def entry(self) -> dict[str, Any]:
        """The ERP catalogue's entry for it (``ISSUE20-CONTRACT``)."""
        return {"channel": self.channel, "shop": self.shop, "item_id": self.item_id,
                "sku_id": self.sku_id, "components": [{"sku": s, "quantity": q}
                                                      for s, q in self.components]}


def _number(key: str, digits: int, first: str, salt: int) -> str:
    h = int.from_bytes(hashlib.blake2b(f"{key}#{salt}".encode(), digest_size=12).digest(),
                       "big")
    return first + str(h % 10 ** (digits - 1)).zfill(digits - 1)


def _rank(key: str) -> float:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64


def listings(specs: Sequence[Mapping[str, Any]], shops: Mapping[str, Sequence[str]],
             outer_codes: float, by_outer_code: float) -> tuple[Listing, ...]:
    """Every listing of every shop: ``specs`` are the scenario's listings (``code``,
    ``item``, ``components``, ``price_fen``, ``weight``, ``channels``), ``shops`` the
    scenario's shops per channel."""
    made: list[Listing] = []
    taken: set[str] = set()
    items: dict[tuple[str, str, str], str] = {}
    for channel, names in shops.items():
        (item_digits, item_first), (sku_digits, sku_first) = SHAPES[channel]
        for shop in names:
            for spec in specs:
                if channel not in spec["channels"]:
                    continue
                where = f"{channel}/{shop}"
                item = items.get((channel, shop, spec["item"]))
                salt = 0
                while item is None:  # the first variant of the item names it
                    item = _number(f"{where}/item/{spec['item']}", item_digits, item_first,
                                   salt)
                    item = None if item in taken else item
                    salt += 1
                items[(channel, shop, spec["item"])] = item
                taken.add(item)
                sku, salt = None, 0
                while sku is None or sku in taken:
                    sku = _number(f"{where}/sku/{spec['code']}", sku_digits, sku_first, salt)
                    salt += 1
                taken.add(sku)
                parts = tuple((s, int(q)) for s, q in spec["components"])
                single = len(parts) == 1 and parts[0][1] == 1
                made.append(Listing(channel, shop, spec["code"], item, sku,
                                    parts[0][0] if single else spec["code"], parts,
                                    int(spec["price_fen"]), float(spec["weight"])))
    return _outer_codes(made, outer_codes, by_outer_code)


def _outer_codes(made: list[Listing], share: float, unlisted: float) -> tuple[Listing, ...]:
    """Exactly ``round(share * n)`` listings keep an outer code (chosen by hash); of those
    naming a merchant SKU, ``round(unlisted * m)`` are left out of the ERP."""
    def key(x: Listing) -> str:
        return f"{x.channel}/{x.shop}/{x.code}"

    keep = {key(x) for x in sorted(made, key=lambda x: _rank(key(x)))[:round(share * len(made))]}
    naming = sorted((x for x in made if x.single and key(x) in keep),
                    key=lambda x: _rank("erp/" + key(x)))
    out_of_erp = {key(x) for x in naming[:round(unlisted * len(naming))]}
    out = []
    for x in made:
        outer = x.outer if key(x) in keep else ""
        out.append(Listing(x.channel, x.shop, x.code, x.item_id, x.sku_id, outer,
                           x.components, x.price_fen, x.weight, key(x) not in out_of_erp))
    return tuple(out)


def erp_catalogue(shelf: Iterable[Listing], names: Mapping[str, str]) -> dict[str, Any]:
    """What the ERP's catalogue holds: ``{"skus": [{"sku", "name"}], "listings": [...]}``
    (the listings it knows, as ``GET /catalogue`` serves them)."""
    return {"skus": [{"sku": s, "name": n} for s, n in names.items()],
            "listings": [x.entry() for x in shelf if x.in_erp]}


def expansions(shelf: Iterable[Listing]) -> dict[str, Parts]:
    """Platform SKU id -> its merchant SKUs and quantities, for every listing (those the
    ERP leaves out too: their outer code names the merchant SKU)."""
    return {x.sku_id: x.components for x in shelf}
