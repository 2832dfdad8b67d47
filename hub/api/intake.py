"""What the outside world posts to the hub: marketplace pushes and WMS status.

A push goes the same way as a pulled page: adapters, quarantine for bad records,
the ledger's idempotent ingest, then the router. Nothing is acknowledged (200)
before the ledger has it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, HTTPException, Request

from hub.domain.adapters import ADAPTERS, MarketplaceError, douyin, parse_any

log = logging.getLogger("orderhub.intake")
DECRYPT_TRIES = 3


def intake_router(hub: Any) -> APIRouter:
    router = APIRouter(tags=["intake"])
    clients: dict[str, Any] = {}

    async def _decrypted(payload: Any) -> dict[str, str]:
        """Douyin's batch-decrypt of a pushed payload's receivers. When the marketplace
        cannot answer, the push is refused (503) rather than stored with masked
        receivers, which no address or phone check could read: the sender pushes again."""
        pairs = douyin.ciphers(payload)
        config = next((c for c in hub.settings.channels if c.channel == "douyin"), None)
        if not pairs or config is None:
            return {}
        if "douyin" not in clients:
            from hub.connectors.marketplace import client_for

            clients["douyin"] = client_for(config)
        for attempt in range(DECRYPT_TRIES):
            try:
                return await clients["douyin"].decrypt(pairs)
            except Exception as exc:
                log.warning("douyin batch decrypt failed (try %d of %d): %s", attempt + 1,
                            DECRYPT_TRIES, exc)
                await asyncio.sleep(0.05 * 2 ** attempt)
        raise HTTPException(503, "douyin batch decrypt failed; nothing was stored, push again",
                            headers={"Retry-After": "1"})

    @router.post("/push/{channel}")
    async def push(channel: str, request: Request, shop: str = "") -> dict[str, Any]:
        """Orders pushed by a marketplace's message service (one, a list, or a page)."""
        if channel not in ADAPTERS:
            raise HTTPException(404, f"unknown channel {channel!r}")
        try:
            payload = orjson.loads(await request.body())
            if channel == "douyin":  # receivers arrive encrypted, as they do when pulled
                page = douyin.parse_any(payload, shop, await _decrypted(payload))
            else:
                page = parse_any(channel, payload, shop)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"body is not JSON: {exc}") from None
        except ValueError as exc:  # a page whose envelope itself is malformed
            raise HTTPException(400, str(exc)) from None
        except MarketplaceError as exc:
            raise HTTPException(400, f"error envelope pushed: {exc}") from None
        now = hub.clock.now()
        for bad in page.quarantined:
            await hub.ledger.quarantine_add.remote(channel, shop, bad.raw, str(bad.error), now)
        stored = await hub.ledger.ingest_positions.remote(page.orders) if page.orders else []
        new = [page.orders[i] for i in stored]
        if new:
            await hub.router.submit.remote(new)
        return {"accepted": len(page.orders), "new": len(new),
                "quarantined": len(page.quarantined)}

    @router.post("/wms/status")
    async def wms_status(request: Request) -> dict[str, int]:
        """Status callbacks from the WMS: picked, packed, shipped with tracking number."""
        from hub.ledger import StageEvent

        try:
            events = orjson.loads(await request.body())
            items = events["events"] if isinstance(events, dict) else events
            rows = [StageEvent(key=(e["channel"], e["shop"], e["order_id"]), stage=e["stage"],
                               at=hub.clock.now(), detail={"wms_at": str(e.get("at", ""))},
                               tracking_no=e.get("tracking_no")) for e in items]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise HTTPException(400, f"bad status callback: {exc!r}") from None
        await hub.ledger.record_stage.remote(rows)
        return {"recorded": len(rows)}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return router


def build_app(hub: Any) -> FastAPI:
    """The hub's HTTP face: intake, plus the dashboard when it is installed."""
    try:
        from hub.api.app import create_app
    except ImportError:
        app = FastAPI(title="OrderHub")
        app.include_router(intake_router(hub))
        return app
    from hub.app.rules import RuleConsole
    from hub.ledger import open_ledger

    reader = open_ledger(hub.settings.ledger, clock=hub.clock, reader=True)
    admin = RuleConsole(reader, hub.writer, put_in_force=hub.put_rules_in_force, clock=hub.clock)
    return create_app(reader, writer=hub.writer, rules=admin, api=hub.settings.api,
                      clock=hub.clock, extra_routers=[intake_router(hub)], stats=hub.stats)
