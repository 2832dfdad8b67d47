"""Emulated ERP: the merchant's catalogue (``sim.emulators.erp_catalogue``: merchant
SKUs and each marketplace listing's mapping to them, paged and versioned) and inventory
per merchant SKU and warehouse, drawn down as orders are synced or dispatched to the
WMS (the suite wires the WMS's dispatches here), so stock conflicts appear during a
surge.

An order draws its items once, whichever comes first (sync or dispatch), from its
``warehouse_hint`` when the ERP knows that warehouse, else from the warehouse holding
most of the SKU. A line names a merchant SKU (what the hub sends once it expands
listings); a line that names a platform SKU id instead (an older hub) is mapped through
the ERP's own catalogue, then by its ``outer_sku`` when that names a merchant SKU, and
draws each component. Stock never goes below zero: what is missing is reported as
``short`` and counted as oversold. SKUs the ERP does not track are not checked.

Routes:

- ``GET /inventory[?warehouse=W&sku=A,B]`` -> ``{"taken_at", "items": [{"sku",
  "warehouse", "available", "drawn"}]}`` (per merchant SKU)
- ``GET /catalogue?since=V&page=N&page_size=M`` (page from 1, page_size <= 500) ->
  ``{"version", "page", "pages", "total", "skus": [{"sku", "name"}] (page 1 only),
  "listings": [{"channel", "shop", "item_id", "sku_id", "components": [{"sku",
  "quantity"}]}]}``: the listings changed after version V (default 0: all)
- ``POST /_control/catalogue`` ``{"skus": [...], "listings": [...]}`` adds or replaces
  entries as one new version -> ``{"catalogue": {"version", "skus", "listings"}}``
- ``POST /orders/sync`` ``{"orders": [{"key", "channel", "shop", "order_id",
  "warehouse_hint", "items": [{"sku", "quantity"}]}]}`` -> ``{"results": [{"key",
  "status": accepted|duplicate|rejected, "erp_order_no", "short": [{"sku", "missing"}]}]}``
  (idempotent by key and by order)
- ``GET /_records`` -> ``{"requests": [{"seq", "at", "op": sync|wms_dispatch, "orders",
  "results"}], "catalogue": [{"seq", "at", "version", "source": config|control, "skus",
  "listings"}]}``
- ``POST /_control/stock`` ``{"stock": {"SKU-1": 10, "SKU-2": {"WH-GZ": 3}}}`` sets levels
- common: ``/healthz``, ``/_stats``, ``/_control/faults``

>>> from hub.clock import Clock
>>> erp = ErpState(Clock(), ErpConfig(stock={"SKU-1": 3}))
>>> erp.sync([{"key": "k", "channel": "jd", "order_id": "J1",
...            "items": [{"sku": "SKU-1", "quantity": 5}]}])[0]["short"]
[{'sku': 'SKU-1', 'missing': 2}]
>>> erp.inventory()
{'SKU-1': 0}
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.clock import Clock
from sim.emulators.backoffice import (
    BackOffice,
    BadRequest,
    Emulator,
    OutageWindow,
    json_response,
    mount_common,
    problems,
    read_json,
)
from sim.emulators.erp_catalogue import MAX_PAGE, Catalogue, CatalogueChange, checked

Stock = dict[str, int | dict[str, int]]  # sku -> quantity (default warehouse) or per warehouse


class ErpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warehouses: list[str] = Field(default=["WH-HZ"], min_length=1)  # the first is the default
    stock: Stock = {}
    default_stock: int | None = Field(default=None, ge=0)  # for SKUs seen in a trace
    max_batch: int = Field(default=1000, ge=1)
    outages: list[OutageWindow] = []
    seed: int = 0
    catalogue: dict[str, Any] = {}  # {"skus": [...], "listings": [...]}: version 1

    @model_validator(mode="after")
    def _checked(self) -> ErpConfig:
        _levels(self.stock, self.warehouses)
        checked(self.catalogue)
        return self


def _levels(stock: Stock, warehouses: list[str]) -> dict[tuple[str, str], int]:
    levels: dict[tuple[str, str], int] = {}
    for sku, amount in stock.items():
        per = amount if isinstance(amount, dict) else {warehouses[0]: amount}
        for warehouse, quantity in per.items():
            if warehouse not in warehouses:
                raise ValueError(f"stock.{sku}: unknown warehouse {warehouse!r} "
                                 f"(known: {', '.join(warehouses)})")
            if not isinstance(quantity, int) or quantity < 0:
                raise ValueError(f"stock.{sku}.{warehouse}: a whole number >= 0 is needed")
            levels[(sku, warehouse)] = quantity
    return levels


class SyncLine(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    shop: str = ""
    order_id: str = Field(min_length=1)
    warehouse_hint: str | None = None
    items: list[dict[str, Any]] = []


class ErpState:
    """Stock levels and synced orders. Thread-safe."""

    def __init__(self, clock: Clock, config: ErpConfig | None = None) -> None:
        self.clock, self.config = clock, config or ErpConfig()
        self._lock = threading.Lock()
        self._available = _levels(self.config.stock, self.config.warehouses)
        self._drawn: Counter[tuple[str, str]] = Counter()
        self._results: dict[str, dict[str, Any]] = {}
        self._by_ident: dict[tuple[str, str, str], str] = {}  # order -> key of its draw
        self._numbers = itertools.count(1)
        self.counts: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []  # records: every sync and dispatch draw
        self.catalogue = Catalogue()
        self.changes: list[dict[str, Any]] = []  # records: every catalogue change
        if self.config.catalogue:
            self._change(checked(self.config.catalogue), "config")

    def seed_skus(self, skus: Iterable[str], quantity: int | None = None) -> int:
        """Give every SKU not yet stocked ``quantity`` (default: ``default_stock``) in the
        default warehouse; returns how many were added."""
        quantity = self.config.default_stock if quantity is None else quantity
        if quantity is None:
            return 0
        warehouse = self.config.warehouses[0]
        with self._lock:
            known = {sku for sku, _ in self._available}
            fresh = set(skus) - known
            for sku in fresh:
                self._available[(sku, warehouse)] = quantity
        return len(fresh)

    def merchant_skus(self, lines: Iterable[tuple[str, str, str, str]]) -> set[str]:
        """The merchant SKUs order lines ``(channel, shop, sku, outer_sku)`` draw (a
        platform SKU id mapped through the catalogue, else kept as it is)."""
        with self._lock:
            return {str(sku) for channel, shop, sku, outer in lines
                    for sku, _ in self._merchant_lines([{"sku": sku, "outer_sku": outer}],
                                                       channel, shop)}

    def set_stock(self, stock: Stock) -> None:
        levels = _levels(stock, self.config.warehouses)
        with self._lock:
            self._available.update(levels)

    # -- the catalogue ---------------------------------------------------------------------
    def change_catalogue(self, body: Any) -> dict[str, int]:
        """Add or replace catalogue entries as one new version (ValueError naming the
        field when an entry is not well-typed)."""
        change = checked(body)
        with self._lock:
            self._change(change, "control")
            return self.catalogue.summary()

    def _change(self, change: CatalogueChange, source: str) -> None:
        version = self.catalogue.change(change)
        self.changes.append({"seq": len(self.changes) + 1, "at": self.clock.now().isoformat(),
                             "version": version, "source": source,
                             **change.model_dump()})

    def catalogue_page(self, since: int, page: int, page_size: int) -> dict[str, Any]:
        with self._lock:
            return self.catalogue.page(since=since, page=page, page_size=page_size)

    # -- drawing -------------------------------------------------------------------------
    def _merchant_lines(self, items: list[dict[str, Any]], channel: str,
                        shop: str) -> list[tuple[Any, Any]]:
        """(merchant sku, quantity) per line: a tracked SKU as is, else the components
        of the listing its platform SKU id names, else its outer code's SKU."""
        tracked = {sku for sku, _ in self._available}
        out: list[tuple[Any, Any]] = []
        for item in items:
            sku, quantity = item.get("sku"), item.get("quantity", 1)
            parts = () if sku in tracked or not isinstance(sku, str) else \
                self.catalogue.parts(channel, shop, sku)
            outer = item.get("outer_sku")
            if not parts and sku not in tracked and outer in tracked:
                parts = ((outer, 1),)
            if parts and isinstance(quantity, int):
                out += [(part, n * quantity) for part, n in parts]
            else:
                out.append((sku, quantity))
        return out

    def _draw(self, items: list[dict[str, Any]], hint: str | None, channel: str = "",
              shop: str = "") -> list[dict[str, Any]]:
        short = []
        for sku, quantity in self._merchant_lines(items, channel, shop):
            places = [w for w in self.config.warehouses if (sku, w) in self._available]
            if not places or not isinstance(quantity, int):
                continue  # not tracked here
            where = hint if hint in places else max(places, key=lambda w: self._available[(
                sku, w)])
            taken = min(quantity, self._available[(sku, where)])
            self._available[(sku, where)] -= taken
            self._drawn[(sku, where)] += taken
            if taken < quantity:
                short.append({"sku": sku, "missing": quantity - taken})
                self.counts["oversold_units"] += quantity - taken
        return short

    def sync(self, lines: Iterable[Any]) -> list[dict[str, Any]]:
        """Orders synced by the hub: one result per line; a repeated key or order returns
        the first result, marked duplicate."""
        lines = list(lines)
        results = []
        with self._lock:
            for n, raw in enumerate(lines):
                try:
                    line = SyncLine.model_validate(raw)
                except ValidationError as exc:
                    self.counts["rejected"] += 1
                    results.append({"key": raw.get("key") if isinstance(raw, dict) else None,
                                    "status": "rejected",
                                    "reason": "; ".join(problems(exc, f"orders[{n}]"))})
                    continue
                ident = (line.channel, line.shop, line.order_id)
                first = self._results.get(line.key) or self._results.get(
                    self._by_ident.get(ident, ""))
                if first is not None:
                    self.counts["duplicates"] += 1
                    results.append({**first, "key": line.key, "status": "duplicate"})
                    continue
                results.append(self._record(line.key, ident, line.items,
                                            line.warehouse_hint))
                self.counts["synced"] += 1
            self._note("sync", lines, results)
        return results

    def _note(self, op: str, orders: list[Any], results: list[dict[str, Any]]) -> None:
        self.log.append({"seq": len(self.log) + 1, "at": self.clock.now().isoformat(),
                         "op": op, "orders": orders, "results": results})

    def export(self) -> dict[str, Any]:
        """The ERP's records: every sync (as sent, with its answers) and every draw made
        for a WMS dispatch."""
        with self._lock:
            return {"requests": list(self.log), "catalogue": list(self.changes)}

    def _record(self, key: str, ident: tuple[str, str, str], items: list[dict[str, Any]],
                hint: str | None) -> dict[str, Any]:
        result = {"key": key, "status": "accepted",
                  "erp_order_no": f"ERP{next(self._numbers):09d}",
                  "short": self._draw(items, hint, ident[0], ident[1])}
        self._results[key] = result
        self._by_ident[ident] = key
        return result

    def on_dispatch(self, orders: Iterable[Any]) -> None:
        """The WMS took these orders (``WmsOrder``): draw what sync did not draw yet."""
        with self._lock:
            for order in orders:
                if order.ident in self._by_ident:
                    continue
                result = self._record(f"wms:{order.key}", order.ident, order.items,
                                      order.warehouse)
                channel, shop, order_id = order.ident
                self._note("wms_dispatch", [{"key": order.key, "channel": channel,
                                             "shop": shop, "order_id": order_id,
                                             "items": order.items}], [result])
                self.counts["drawn_on_dispatch"] += 1

    # -- reading -------------------------------------------------------------------------
    def inventory(self) -> dict[str, int]:
        """Available units per SKU, over every warehouse."""
        with self._lock:
            total: Counter[str] = Counter()
            for (sku, _), available in self._available.items():
                total[sku] += available
            return dict(total)

    def rows(self, warehouse: str | None = None,
             skus: set[str] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [{"sku": sku, "warehouse": w, "available": n, "drawn": self._drawn[(sku, w)]}
                    for (sku, w), n in sorted(self._available.items())
                    if (warehouse is None or w == warehouse) and (skus is None or sku in skus)]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"skus": len({sku for sku, _ in self._available}),
                    "units_available": sum(self._available.values()),
                    "units_drawn": sum(self._drawn.values()),
                    "out_of_stock": sum(1 for n in self._available.values() if n == 0),
                    "orders": len(self._results), "counts": dict(self.counts),
                    "catalogue": self.catalogue.summary()}


def create_app(state: ErpState, office: BackOffice) -> FastAPI:
    app = FastAPI(title="ERP emulator")
    mount_common(app, office, lambda: {"erp": state.snapshot()}, records=state.export)

    @app.get("/inventory")
    async def inventory(warehouse: str | None = None, sku: str | None = None) -> Response:
        if (blocked := await office.gate("inventory")) is not None:
            return blocked
        skus = {s for s in sku.split(",") if s} if sku else None
        return json_response({"taken_at": office.clock.now().isoformat(),
                              "items": state.rows(warehouse, skus)})

    @app.post("/orders/sync")
    async def sync(request: Request) -> Response:
        if (blocked := await office.gate("sync")) is not None:
            return blocked
        body = await read_json(request)
        lines = body.get("orders") if isinstance(body, dict) else body
        if not isinstance(lines, list):
            raise BadRequest(["orders: a list of orders is needed"])
        if len(lines) > state.config.max_batch:
            raise BadRequest([f"orders: at most {state.config.max_batch} a call, "
                              f"got {len(lines)}"])
        results = state.sync(lines)
        kinds = Counter(r["status"] for r in results)
        return json_response({"results": results, "accepted": kinds["accepted"],
                              "duplicates": kinds["duplicate"], "rejected": kinds["rejected"]})

    @app.get("/catalogue")
    async def catalogue(since: int = 0, page: int = 1, page_size: int = 100) -> Response:
        if (blocked := await office.gate("catalogue")) is not None:
            return blocked
        if page < 1 or not 1 <= page_size <= MAX_PAGE or since < 0:
            raise BadRequest([f"page from 1, page_size 1 to {MAX_PAGE}, since >= 0; got "
                              f"page={page} page_size={page_size} since={since}"])
        return json_response(state.catalogue_page(since, page, page_size))

    @app.post("/_control/catalogue")
    async def change_catalogue(request: Request) -> Response:
        body = await read_json(request)
        try:
            summary = state.change_catalogue(body)
        except ValueError as exc:
            raise BadRequest([str(exc)]) from None
        return json_response({"catalogue": summary})

    @app.post("/_control/stock")
    async def stock(request: Request) -> Response:
        body = await read_json(request)
        try:
            state.set_stock(body.get("stock", {}) if isinstance(body, dict) else {})
        except (ValueError, AttributeError) as exc:
            raise BadRequest([str(exc)]) from None
        return json_response({"erp": state.snapshot()})

    return app


class ErpEmulator(Emulator):
    name = "erp"

    def __init__(self, clock: Clock, config: ErpConfig | None = None, *, port: int = 0,
                 origin: datetime | None = None) -> None:
        super().__init__(port=port)
        config = config or ErpConfig()
        self.state = ErpState(clock, config)
        self.office = BackOffice("erp", clock, origin=origin, outages=config.outages,
                                 seed=config.seed)
        self.app = create_app(self.state, self.office)

    def records(self) -> dict[str, Any]:
        return self.state.export()
