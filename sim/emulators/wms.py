"""Emulated warehouse (WMS) over HTTP: takes dispatched orders (idempotent by key),
works them through picked -> packed -> shipped (``sim.emulators.warehouse``), and
reports status both ways: POSTed in batches to the hub's callback URL (retried) and
pulled by sequence number.

Routes:

- ``POST /orders/dispatch`` ``{"orders": [{"key", "channel", "shop", "order_id", "lane",
  "packing_group", "delivery", "warehouse_hint", "items": [{"sku", "quantity"}],
  "receiver"?, "carrier"?, "ship_by"?}, ...]}`` -> ``{"results": [{"key", "status":
  accepted|duplicate|rejected, "wms_order_no", "reason"?}], "accepted", "duplicates",
  "rejected"}``; a new key for an order already held makes a second warehouse order
- ``GET /orders/status?since=SEQ&limit=N`` -> ``{"seq": last returned, "newest",
  "events": [{"seq", "key", "channel", "shop", "order_id", "stage", "at", "tracking_no",
  "carrier", "wms_order_no"}]}``; the callback body is ``{"events": [...]}`` alike
- ``POST /orders/lookup`` ``{"orders": [[channel, shop, order_id], ...]}`` ->
  ``{"orders": [view of each warehouse order, oldest first], "missing": [...]}``;
  ``GET /orders/{channel}/{order_id}?shop=``
- ``POST /orders/intercept`` ``{"orders": [{"key", "channel", "shop", "order_id",
  "reason"}]}`` and ``POST /orders/amend`` ``{"orders": [{"key", "channel", "shop",
  "order_id", "receiver"?, "items"?}]}`` -> ``{"results": [{"key", "channel", "shop",
  "order_id", "status": intercepted|amended|duplicate|too_late|unknown|rejected,
  "stage", "wms_orders": [{"wms_order_no", "stage"}]}]}``: only before packed; a
  duplicate key answers the first answer again (``first_status``), changing nothing
- ``GET /_records`` -> the WMS's records (``sim.emulators.wms_records``)
- ``POST /_control/clock`` ``{"factor": F}``: the warehouse's clock runs F times as
  fast from now on -> ``{"clock": {"factor", "now", "warped_at"}}``
- ``POST /_control/plant`` ``{"kind": "shipped" | "drop", "channel", "shop", "order_id",
  "report": false}``: a mismatch for the reconciler to find
- common: ``/healthz``, ``/_stats``, ``/_control/faults`` (outage windows: 503)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import FastAPI, Request, Response

from hub.clock import Clock
from sim.emulators.backoffice import (
    BackOffice,
    BadRequest,
    Emulator,
    EventForwarder,
    json_response,
    mount_common,
    read_json,
)
from sim.emulators.callback_signing import signed_headers
from sim.emulators.warehouse import Key, WmsConfig, WmsOrder, WmsState

__all__ = ["WmsConfig", "WmsEmulator", "WmsOrder", "WmsState", "create_app"]


def _idents(body: Any) -> list[Key]:
    items = body.get("orders", body.get("keys")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise BadRequest(["orders: a list of [channel, shop, order_id] or objects is needed"])
    out = []
    for n, item in enumerate(items):
        if isinstance(item, dict):
            item = [item.get("channel"), item.get("shop", ""), item.get("order_id")]
        if not (isinstance(item, list | tuple) and len(item) == 3 and
                all(isinstance(p, str) for p in item)):
            raise BadRequest([f"orders[{n}]: need channel, shop and order_id as strings"])
        out.append(tuple(item))
    return out


def _lines(body: Any, limit: int) -> list[Any]:
    lines = body.get("orders") if isinstance(body, dict) else body
    if not isinstance(lines, list):
        raise BadRequest(["orders: a list of orders is needed"])
    if len(lines) > limit:
        raise BadRequest([f"orders: at most {limit} a call, got {len(lines)}"])
    return lines


def create_app(state: WmsState, office: BackOffice) -> FastAPI:
    app = FastAPI(title="WMS emulator")
    mount_common(app, office, lambda: {"wms": state.snapshot()}, records=state.export)

    async def gate(op: str) -> Response | None:
        blocked = await office.gate(op)
        if blocked is not None:
            state.records.refused(op, blocked.status_code)
        return blocked

    @app.post("/orders/dispatch")
    async def dispatch(request: Request) -> Response:
        if (blocked := await gate("dispatch")) is not None:
            return blocked
        results = state.dispatch(_lines(await read_json(request), state.config.max_batch))
        kinds = Counter(r["status"] for r in results)
        return json_response({"results": results, "accepted": kinds["accepted"],
                              "duplicates": kinds["duplicate"], "rejected": kinds["rejected"]})

    @app.post("/orders/intercept")
    async def intercept(request: Request) -> Response:
        if (blocked := await gate("intercept")) is not None:
            return blocked
        lines = _lines(await read_json(request), state.config.max_batch)
        return json_response({"results": state.intercept(lines)})

    @app.post("/orders/amend")
    async def amend(request: Request) -> Response:
        if (blocked := await gate("amend")) is not None:
            return blocked
        lines = _lines(await read_json(request), state.config.max_batch)
        return json_response({"results": state.amend(lines)})

    @app.get("/orders/status")
    async def status(since: int = 0, limit: int = 1000) -> Response:
        if (blocked := await gate("status")) is not None:
            return blocked
        seq, events = state.events_since(since, max(1, min(limit, 5000)))
        state.records.counted("status", len(events), since=since)
        return json_response({"seq": seq, "newest": state.last_seq, "events": events})

    @app.post("/orders/lookup")
    async def lookup(request: Request) -> Response:
        if (blocked := await gate("lookup")) is not None:
            return blocked
        idents = _idents(await read_json(request))
        found = state.lookup(idents)
        state.records.counted("lookup", len(idents))
        seen = {(o["channel"], o["shop"], o["order_id"]) for o in found}
        return json_response({"orders": found,
                              "missing": [list(i) for i in idents if i not in seen]})

    @app.get("/orders/{channel}/{order_id}")
    async def one(channel: str, order_id: str, shop: str = "") -> Response:
        if (blocked := await gate("lookup")) is not None:
            return blocked
        found = state.lookup([(channel, shop, order_id)])
        state.records.counted("lookup", 1)
        return json_response(found[0]) if found else \
            json_response({"error": "no such order", "order_id": order_id}, 404)

    @app.post("/_control/clock")
    async def clock(request: Request) -> Response:
        body = await read_json(request)
        factor = body.get("factor") if isinstance(body, dict) else None
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise BadRequest(["factor: a positive number is needed"])
        state.fast_forward(float(factor))
        return json_response({"clock": state.clock.as_dict()})

    @app.post("/_control/plant")
    async def plant(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict) or body.get("kind") not in ("shipped", "drop"):
            raise BadRequest(["kind: 'shipped' or 'drop' is needed"])
        ident = _idents([body])[0]
        if body["kind"] == "drop":
            return json_response({"dropped": state.drop(ident)})
        return json_response(state.plant_shipped(ident, report=bool(body.get("report"))))

    return app


class WmsEmulator(Emulator):
    """The WMS served on loopback, with its status callback thread when the config
    names a ``callback_url``."""

    name = "wms"

    def __init__(self, clock: Clock, config: WmsConfig | None = None, *, port: int = 0,
                 origin: datetime | None = None,
                 on_dispatch: Callable[[list[WmsOrder]], None] | None = None) -> None:
        super().__init__(port=port)
        config = config or WmsConfig()
        self.state = WmsState(clock, config, on_dispatch)
        # the back office (outage windows) keeps the warehouse's own, warpable clock
        self.office = BackOffice("wms", self.state.clock, origin=origin,
                                 outages=config.outages, seed=config.seed)
        self.app = create_app(self.state, self.office)
        self.callback: EventForwarder | None = None
        if config.callback_url:
            self.callback = EventForwarder(
                self.office, self.state.events_since, self.state.newest_seq,
                config.callback_url, batch=config.callback_batch,
                poll_s=config.callback_poll_s, seed=config.seed,
                sign=partial(signed_headers, config.warehouse,
                             config.callback_secret.get_secret_value()))
            self.threads.append(self.callback)

    def fast_forward(self, factor: float) -> datetime:
        """The warehouse's business time runs ``factor`` times as fast from now on."""
        return self.state.fast_forward(factor)

    def records(self) -> dict[str, Any]:
        """What ``GET /_records`` answers (contract §2 wms.json)."""
        return self.state.export()
