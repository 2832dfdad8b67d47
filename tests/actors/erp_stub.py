"""A small FastAPI stand-in for the ERP's catalogue and inventory endpoints, as
ISSUE20-CONTRACT describes them (``GET /catalogue?since&page&page_size``, ``GET
/inventory`` per merchant SKU, ``POST /_control/catalogue``), for router tests: the
ERP emulator's catalogue is written in parallel (sim side). It keeps entries as given,
so a test can plant one the hub must refuse."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Body, FastAPI


class ErpStub:
    def __init__(self, skus: list[dict], listings: list[dict], stock: dict[str, int]) -> None:
        self.version = 0
        self.skus: dict[str, dict] = {}
        self.listings: dict[tuple, dict] = {}
        self.stock = dict(stock)
        self.asked: list[tuple[int, int]] = []  # (since, version answered) of each call
        self.change({"skus": skus, "listings": listings})
        self.app = self._app()

    def change(self, body: dict[str, Any]) -> int:
        self.version += 1
        for sku in body.get("skus", ()):
            self.skus[sku["sku"]] = dict(sku)
        for entry in body.get("listings", ()):
            key = (entry["channel"], entry.get("shop", ""), entry.get("item_id", ""),
                   entry.get("sku_id", ""))
            self.listings[key] = {**entry, "_version": self.version}
        return self.version

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/catalogue")
        def catalogue(since: int = 0, page: int = 1, page_size: int = 500) -> dict:
            self.asked.append((since, self.version))
            changed = [v for _, v in sorted(self.listings.items()) if v["_version"] > since]
            pages = max(1, math.ceil(len(changed) / page_size))
            chosen = changed[(page - 1) * page_size:page * page_size]
            out: dict[str, Any] = {
                "version": self.version, "page": page, "pages": pages,
                "listings": [{k: v for k, v in e.items() if k != "_version"} for e in chosen]}
            if page == 1:
                out["skus"] = list(self.skus.values())
            return out

        @app.get("/inventory")
        def inventory() -> dict:
            return {"items": [{"sku": sku, "warehouse": "WH-HZ", "available": n, "drawn": 0}
                              for sku, n in self.stock.items()]}

        @app.post("/_control/catalogue")
        def control(body: dict = Body(...)) -> dict:
            return {"version": self.change(body)}

        return app
