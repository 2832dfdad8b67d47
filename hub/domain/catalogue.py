"""The merchant's catalogue: its SKUs, and what each marketplace listing ships of them.

A warehouse counts the merchant's own SKUs (``LT-CEIL-24W``), one stock for all three
marketplaces; an order line names a marketplace listing (channel, shop, item id, SKU
id) and perhaps the outer code the seller typed on it. A listing maps to one merchant
SKU with a quantity (a 2-pack: 2) or to a bundle of several (a ceiling lamp and three
bulbs); a merchant SKU may itself be a kit of others (``components``), expanded too.

A line resolves by its listing in its shop, else the channel's listing for every shop
(shop ""), else by its SKU id alone (unique on a marketplace), else an item-level
listing (an item without SKUs), else by an outer code that names a merchant SKU. A
line that resolves to nothing is *unmapped* (anomaly ``unmapped_sku``).

A catalogue is checked whole when made: an entry that is a cycle, a bundle of nothing,
a quantity below 1 or an unknown merchant SKU is refused (:class:`CatalogueRefused`,
every such entry named) and the catalogue in force stays.

>>> cat = catalogue(
...     skus=[{"sku": "LT-CEIL-24W", "name": "吸顶灯"}, {"sku": "LT-BULB-E27-9W", "name": "灯泡"}],
...     listings=[{"channel": "tmall", "shop": "", "item_id": "680112345678",
...                "sku_id": "4987654321012", "components": [
...                    {"sku": "LT-CEIL-24W", "quantity": 1},
...                    {"sku": "LT-BULB-E27-9W", "quantity": 3}]}], version=7)
>>> from hub.domain.order import Item
>>> bundle = Item(item_id="680112345678", sku="4987654321012", quantity=2, price_fen=1)
>>> by_code = Item(sku="", outer_sku="LT-BULB-E27-9W", quantity=1, price_fen=1)
>>> cat.resolve("tmall", "明灯旗舰店", bundle)
(('LT-CEIL-24W', 1), ('LT-BULB-E27-9W', 3))
>>> expand_lines(cat, "tmall", "明灯旗舰店", (bundle, by_code))
((('LT-CEIL-24W', 2), ('LT-BULB-E27-9W', 7)), ())
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.domain.order import Item, Order
from hub.errors import OrderHubError

ListingKey = tuple[str, str, str, str]  # channel, shop ("" = every shop), item id, SKU id
Components = tuple[tuple[str, int], ...]  # (merchant SKU, quantity), each quantity >= 1
# An order's lines as merchant SKUs: (sku, quantity) summed per SKU, in first-seen order,
# and the lines that map to nothing, each described (an order with any is unmapped).
Expansion = tuple[Components, tuple[str, ...]]
_MEMO_MAX = 200_000
_MISS = object()


class CatalogueRefused(OrderHubError):
    """A catalogue with entries that cannot stand; ``problems`` names each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"catalogue refused, {len(self.problems)} entries: {shown}{more}")


def listing_name(key: ListingKey) -> str:
    channel, shop, item_id, sku_id = key
    return f"listing {channel}/{shop or '*'}/{item_id or '-'}/{sku_id or '-'}"


def describe(item: Item) -> str:
    """A line as an operator finds it on the marketplace (no buyer data)."""
    return (f"item {item.item_id or '-'} sku {item.sku or '-'} "
            f"outer {item.outer_sku or '-'} x{item.quantity}")


@dataclass(frozen=True, slots=True, eq=False)
class Catalogue:
    """A checked catalogue (made by :func:`catalogue`). ``flat``: every listing and
    merchant SKU already expanded to stocked SKUs (kits taken apart)."""

    version: int
    names: Mapping[str, str]  # merchant SKU -> name
    kits: Mapping[str, Components]  # a merchant SKU made of others -> its components
    listings: Mapping[ListingKey, Components]
    flat_skus: Mapping[str, Components]
    flat_listings: Mapping[ListingKey, Components]
    by_sku_id: Mapping[tuple[str, str, str], Components]  # (channel, shop, SKU id)
    _memo: dict[tuple, Components | None] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.listings)

    def resolve(self, channel: str, shop: str, item: Item) -> Components | None:
        """The stocked merchant SKUs one unit of ``item`` ships, or None (unmapped)."""
        d = item.__dict__
        key = (channel, shop, d["item_id"], d["sku"], d["outer_sku"])
        memo = self._memo
        found = memo.get(key, _MISS)
        if found is not _MISS:
            return found  # type: ignore[return-value]
        found = self._resolve(*key)
        if len(memo) > _MEMO_MAX:
            memo.clear()
        memo[key] = found
        return found

    def _resolve(self, channel: str, shop: str, item_id: str, sku: str,
                 outer: str) -> Components | None:
        listings, by_sku = self.flat_listings, self.by_sku_id
        if item_id or sku:
            found = listings.get((channel, shop, item_id, sku)) \
                or listings.get((channel, "", item_id, sku))
            if found:
                return found
        if sku:
            found = by_sku.get((channel, shop, sku)) or by_sku.get((channel, "", sku))
            if found:
                return found
        if item_id:
            found = listings.get((channel, shop, item_id, "")) \
                or listings.get((channel, "", item_id, ""))
            if found:
                return found
        return self.flat_skus.get(outer) if outer else None

    def merged(self, change: Mapping[str, Any]) -> Catalogue:
        """This catalogue with the ERP's ``change`` (``skus`` and ``listings`` entries
        added or replaced, its ``version``), checked whole; raises ``CatalogueRefused``."""
        return catalogue(
            skus=[*({"sku": s, "name": n, **({"components": [
                {"sku": c, "quantity": q} for c, q in self.kits[s]]} if s in self.kits else {})}
                for s, n in self.names.items()), *change.get("skus", ())],
            listings=[*({"channel": k[0], "shop": k[1], "item_id": k[2], "sku_id": k[3],
                         "components": [{"sku": c, "quantity": q} for c, q in comps]}
                        for k, comps in self.listings.items()), *change.get("listings", ())],
            version=int(change.get("version", self.version)))


def _components(raw: Any, name: str, problems: list[str]) -> Components | None:
    if not isinstance(raw, list | tuple) or not raw:
        problems.append(f"{name}: a bundle of nothing")
        return None
    out: dict[str, int] = {}
    for part in raw:
        sku = part.get("sku") if isinstance(part, Mapping) else None
        quantity = part.get("quantity", 1) if isinstance(part, Mapping) else None
        if not isinstance(sku, str) or not sku:
            problems.append(f"{name}: a component names no merchant SKU")
            continue
        if type(quantity) is not int or quantity < 1:
            problems.append(f"{name}: quantity {quantity!r} of {sku} is below 1")
            continue
        out[sku] = out.get(sku, 0) + quantity
    return tuple(out.items()) if out else None


def _flatten_kits(names: Mapping[str, str], kits: Mapping[str, Components],
                  problems: list[str]) -> dict[str, Components]:
    """Every merchant SKU as stocked SKUs; kits in a cycle or naming an unknown SKU are
    reported and left out."""
    flat: dict[str, Components] = {}
    bad: set[str] = set()

    def walk(sku: str, path: tuple[str, ...]) -> Components | None:
        if sku in flat:
            return flat[sku]
        if sku in bad:
            return None
        if sku in path:
            cycle = " -> ".join((*path[path.index(sku):], sku))
            problems.append(f"merchant SKU {sku}: a cycle ({cycle})")
            bad.update(path[path.index(sku):])
            return None
        parts = kits.get(sku)
        if parts is None:
            flat[sku] = ((sku, 1),)
            return flat[sku]
        total: dict[str, int] = {}
        for part, n in parts:
            if part not in names:
                problems.append(f"merchant SKU {sku}: unknown merchant SKU {part}")
                bad.add(sku)
                return None
            inner = walk(part, (*path, sku))
            if inner is None:
                bad.add(sku)
                return None
            for stocked, m in inner:
                total[stocked] = total.get(stocked, 0) + n * m
        if sku in bad:
            return None
        flat[sku] = tuple(total.items())
        return flat[sku]

    for sku in names:
        walk(sku, ())
    return flat


def catalogue(skus: Iterable[Mapping[str, Any]], listings: Iterable[Mapping[str, Any]],
              version: int = 0) -> Catalogue:
    """A checked catalogue from the ERP's entries (later entries replace earlier ones
    with the same SKU or listing key). Raises :class:`CatalogueRefused` naming every
    entry that is a cycle, a bundle of nothing, a quantity below 1 or names an unknown
    merchant SKU."""
    problems: list[str] = []
    names: dict[str, str] = {}
    kits: dict[str, Components] = {}
    for entry in skus:
        sku = entry.get("sku")
        if not isinstance(sku, str) or not sku or not sku.isprintable() or " " in sku \
                or "*" in sku:
            problems.append(f"merchant SKU {sku!r}: not a code (empty, spaces or '*')")
            continue
        names[sku] = str(entry.get("name") or "")
        kits.pop(sku, None)
        if "components" in entry:
            parts = _components(entry["components"], f"merchant SKU {sku}", problems)
            if parts is not None:
                kits[sku] = parts
    raw_listings: dict[ListingKey, Any] = {}
    for entry in listings:
        key = (str(entry.get("channel") or ""), str(entry.get("shop") or ""),
               str(entry.get("item_id") or ""), str(entry.get("sku_id") or ""))
        raw_listings[key] = entry.get("components")
    flat_skus = _flatten_kits(names, kits, problems)
    parsed: dict[ListingKey, Components] = {}
    flat_listings: dict[ListingKey, Components] = {}
    for key, raw in raw_listings.items():
        name = listing_name(key)
        if not key[0] or not (key[2] or key[3]):
            problems.append(f"{name}: names no channel, or no item or SKU id")
            continue
        parts = _components(raw, name, problems)
        if parts is None:
            continue
        total: dict[str, int] = {}
        for sku, n in parts:
            if sku not in names:
                problems.append(f"{name}: unknown merchant SKU {sku}")
                total = {}
                break
            inner = flat_skus.get(sku)
            if inner is None:  # a kit already refused above
                total = {}
                break
            for stocked, m in inner:
                total[stocked] = total.get(stocked, 0) + n * m
        if total:
            parsed[key] = parts
            flat_listings[key] = tuple(total.items())
    if problems:
        raise CatalogueRefused(problems)
    by_sku: dict[tuple[str, str, str], Components] = {}
    for key, comps in flat_listings.items():
        if key[3]:
            by_sku.setdefault((key[0], key[1], key[3]), comps)
    return Catalogue(version, names, kits, parsed, flat_skus, flat_listings, by_sku)


def expand_lines(cat: Catalogue, channel: str, shop: str, items: Iterable[Item]) -> Expansion:
    """An order's lines as merchant SKUs with quantities (bundles expanded, summed per
    SKU) and the lines the catalogue maps to nothing."""
    total: dict[str, int] = {}
    unmapped: list[str] = []
    resolve = cat.resolve
    for item in items:
        parts = resolve(channel, shop, item)
        if parts is None:
            unmapped.append(describe(item))
            continue
        n = item.__dict__["quantity"]
        for sku, m in parts:
            total[sku] = total.get(sku, 0) + n * m
    return tuple(total.items()), tuple(unmapped)


_NONE: tuple[str, ...] = ()


def expand(order: Order, cat: Catalogue) -> Expansion:
    d = order.__dict__
    items = d["items"]
    if len(items) != 1:
        return expand_lines(cat, d["channel"]._value_, d["shop"], items)
    item = items[0]  # the common case, without the sums
    parts = cat.resolve(d["channel"]._value_, d["shop"], item)
    if parts is None:
        return (), (describe(item),)
    n = item.__dict__["quantity"]
    return (parts if n == 1 else tuple((sku, m * n) for sku, m in parts)), _NONE


def expand_batch(batch: Sequence[Order], cat: Catalogue | None) -> list[Expansion] | None:
    """Each order's expansion; None without a catalogue (lines are then read as they
    are: the marketplace SKU id is the stock's SKU, as before the catalogue)."""
    if cat is None:
        return None
    return [expand(order, cat) for order in batch]


def skus_of(expansions: Iterable[Expansion]) -> set[str]:
    """The merchant SKUs a batch's expansions name (what to take from the stock)."""
    return {sku for lines, _ in expansions for sku, _ in lines}


def as_text(lines: Components) -> str:
    """Merchant lines as one line of text (``Decision.extra`` holds strings).

    >>> as_text((("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 3)))
    'LT-CEIL-24W*1 LT-BULB-E27-9W*3'
    >>> from_text(_)
    [('LT-CEIL-24W', 1), ('LT-BULB-E27-9W', 3)]
    """
    return " ".join(f"{sku}*{n}" for sku, n in lines)


def from_text(text: str) -> list[tuple[str, int]]:
    out = []
    for part in text.split():
        sku, _, n = part.rpartition("*")
        out.append((sku, int(n)))
    return out
