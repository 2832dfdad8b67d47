"""ERP client: inventory snapshot (per SKU, or per SKU and warehouse), the merchant's
catalogue (paged, versioned: what changed since a version) and order sync.

>>> import asyncio, httpx
>>> def erp(request):
...     return httpx.Response(200, json={"taken_at": "2026-11-11T00:00:00+08:00", "items": [
...         {"sku": "A", "warehouse": "WH-HZ", "available": 3, "drawn": 0},
...         {"sku": "A", "warehouse": "WH-GZ", "available": 2, "drawn": 1}]})
>>> asyncio.run(ErpClient("http://erp.test", transport=httpx.MockTransport(erp)).inventory())
{'A': 5}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from hub.connectors.backoffice import (
    BackOfficeClient,
    BackOfficeRejected,
    BackOfficeUnavailable,
    chunks,
    refused_lines,
)

CATALOGUE_PAGE = 500  # the ERP's largest page
CATALOGUE_TRIES = 3  # the version moved while paging: start again, this many times at most


class ErpClient(BackOfficeClient):
    system = "erp"
    batch = 1000

    async def catalogue(self, since: int = 0, page_size: int = CATALOGUE_PAGE,
                        ) -> dict[str, Any] | None:
        """What changed in the catalogue since version ``since`` (0: all of it), every
        page read: ``{"version", "skus", "listings"}`` (entries as the ERP sends them;
        no listings when nothing changed). None when the ERP keeps no catalogue (404).
        A version that moves while the pages are read is read again from page 1."""
        for _ in range(CATALOGUE_TRIES):
            try:
                first = await self.call("GET", "/catalogue", params={
                    "since": since, "page": 1, "page_size": page_size})
            except BackOfficeRejected as exc:
                if exc.status == 404:
                    return None
                raise
            version = int(first["version"])
            skus, listings = list(first.get("skus") or ()), list(first.get("listings") or ())
            moved = False
            for page in range(2, int(first.get("pages") or 1) + 1):
                answer = await self.call("GET", "/catalogue", params={
                    "since": since, "page": page, "page_size": page_size})
                if int(answer["version"]) != version:
                    moved = True
                    break
                listings += answer.get("listings") or ()
            if not moved:
                return {"version": version, "skus": skus, "listings": listings}
        raise BackOfficeUnavailable(self.system, f"GET /catalogue: the version kept moving "
                                                 f"while paging ({CATALOGUE_TRIES} tries)")

    async def inventory_rows(self, warehouse: str | None = None,
                             skus: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """``[{"sku", "warehouse", "available", "drawn"}]``."""
        params = {}
        if warehouse:
            params["warehouse"] = warehouse
        if skus is not None:
            params["sku"] = ",".join(skus)
        answer = await self.call("GET", "/inventory", params=params or None)
        return list(answer["items"])

    async def inventory(self, warehouse: str | None = None) -> dict[str, int]:
        """Available units per SKU (summed over warehouses unless one is named): the
        snapshot the domain's stock checks take."""
        total: Counter[str] = Counter()
        for row in await self.inventory_rows(warehouse):
            total[row["sku"]] += int(row["available"])
        return dict(total)

    async def sync_orders(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sync orders (payload plus idempotency ``key``); one result per row, with the
        units the ERP was ``short`` of. Raises ``BackOfficeRejected`` after the call when
        some rows were refused."""
        if any(not row.get("key") for row in rows):
            raise BackOfficeRejected(self.system, "every row needs an idempotency key",
                                     problems=["key: missing"])
        results: list[dict[str, Any]] = []
        for part in chunks(list(rows), self.batch):
            answer = await self.call("POST", "/orders/sync", body={"orders": list(part)})
            results.extend(answer["results"])
        self.stats["synced"] += sum(r.get("status") == "accepted" for r in results)
        refused_lines(self.system, results)
        return results
