"""The ERP emulator's catalogue: the merchant's SKUs and each marketplace listing's
mapping to them (one SKU with a quantity, or a bundle of several), versioned and served
in pages (``ISSUE20-CONTRACT``).

Every change (the config's at start, then each ``POST /_control/catalogue``) bumps the
version by one; each listing remembers the version that last changed it, so
``since=V`` answers the listings changed after V (none when V is the current version).
The ERP takes entries as given once they are well-typed (a component quantity of 0, an
empty bundle or an unknown SKU is kept), so tests can plant an entry the hub must refuse.

>>> c = Catalogue({"skus": [{"sku": "LT-DESK-12W", "name": "台灯"}], "listings": [
...     {"channel": "jd", "shop": "", "item_id": "10012345678", "sku_id": "100045678912",
...      "components": [{"sku": "LT-DESK-12W", "quantity": 2}]}]})
>>> c.version, c.page(since=0, page=1, page_size=10)["pages"], c.parts("jd", "x", "100045678912")
(1, 1, (('LT-DESK-12W', 2),))
>>> c.page(since=1, page=1, page_size=10)["listings"]
[]
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.emulators.backoffice import problems

MAX_PAGE = 500
ListingKey = tuple[str, str, str, str]  # channel, shop ("" = every shop), item_id, sku_id


class CatalogueSku(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1)
    name: str = ""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    quantity: int


class CatalogueListing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1)
    shop: str = ""
    item_id: str = ""
    sku_id: str = ""
    components: list[Part]


class CatalogueChange(BaseModel):
    """``{"skus": [...], "listings": [...]}``: added, or replacing the same SKU / the
    same (channel, shop, item_id, sku_id)."""

    model_config = ConfigDict(extra="forbid")

    skus: list[CatalogueSku] = []
    listings: list[CatalogueListing] = []


def checked(body: Any, where: str = "catalogue") -> CatalogueChange:
    """A change from JSON; ValueError naming each bad field."""
    try:
        return CatalogueChange.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise ValueError("; ".join(problems(exc, where))) from None


class Catalogue:
    """The versioned catalogue (not locked: the ERP's state holds its lock around it)."""

    def __init__(self, initial: Any = None) -> None:
        self.version = 0
        self.skus: dict[str, dict[str, Any]] = {}  # sku -> {"sku", "name", "version"}
        self.listings: dict[ListingKey, dict[str, Any]] = {}
        self._by_sku_id: dict[tuple[str, str, str], ListingKey] = {}  # channel, shop, sku_id
        if initial:
            self.change(checked(initial))

    def change(self, change: CatalogueChange) -> int:
        """Apply ``change`` as one new version; returns it."""
        self.version += 1
        for sku in change.skus:
            self.skus[sku.sku] = {"sku": sku.sku, "name": sku.name, "version": self.version}
        for listing in change.listings:
            key = (listing.channel, listing.shop, listing.item_id, listing.sku_id)
            self.listings[key] = {**listing.model_dump(), "version": self.version}
            if listing.sku_id:
                self._by_sku_id[(listing.channel, listing.shop, listing.sku_id)] = key
        return self.version

    def page(self, *, since: int, page: int, page_size: int) -> dict[str, Any]:
        """One page of the listings changed after ``since`` (every SKU on page 1)."""
        changed = sorted((k for k, v in self.listings.items() if v["version"] > since))
        pages = max(1, math.ceil(len(changed) / page_size))
        chosen = changed[(page - 1) * page_size:page * page_size]
        out: dict[str, Any] = {
            "version": self.version, "page": page, "pages": pages, "total": len(changed),
            "listings": [_public(self.listings[k]) for k in chosen]}
        if page == 1:
            out["skus"] = [{"sku": s["sku"], "name": s["name"]}
                           for _, s in sorted(self.skus.items())]
        return out

    def parts(self, channel: str, shop: str, sku_id: str) -> tuple[tuple[str, int], ...]:
        """What a platform SKU id of ``channel`` contains (the shop's own listing first,
        then one for every shop); () when the ERP does not know it."""
        key = self._by_sku_id.get((channel, shop, sku_id)) or self._by_sku_id.get(
            (channel, "", sku_id))
        if key is None:
            return ()
        return tuple((p["sku"], p["quantity"]) for p in self.listings[key]["components"])

    def summary(self) -> dict[str, int]:
        return {"version": self.version, "skus": len(self.skus),
                "listings": len(self.listings)}


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "version"}
