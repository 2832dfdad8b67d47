"""What the outside world posts to the hub: marketplace pushes and WMS status.

A push is taken in as a pulled page is (``hub.app.intake``): adapters, quarantine
for bad records, the ledger's idempotent ingest, then the router. A status callback
is recorded as the status feed is (``hub.app.warehouse``). Nothing is acknowledged
(200) before the ledger has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request

from hub.api.limits import records_capped
from hub.api.signed_callback import CallbackGuard, CallbackRefused
from hub.app.intake import Intake
from hub.app.ports import Connections, DecisionQueue, IntakeLedger, StageRecorder, no_connections
from hub.app.warehouse import StatusRefused, record_status
from hub.clock import Clock
from hub.config import ChannelConfig
from hub.domain.adapters import ADAPTERS, MarketplaceError, douyin, parse_any

log = logging.getLogger("orderhub.intake")
DECRYPT_TRIES = 3


class IntakeStore(IntakeLedger, StageRecorder, Protocol):
    """The ledger as the intake handlers use it."""


@dataclass(frozen=True)
class IntakePorts:
    """What the intake handlers work with; ``channels``: the configured marketplaces
    (Douyin's, to decrypt pushed receivers)."""

    ledger: IntakeStore
    router: DecisionQueue
    clock: Clock
    channels: Sequence[ChannelConfig] = ()
    connections: Connections | None = None  # builds Douyin's client to decrypt pushes
    # warehouse name -> secret of its signed status callbacks (none: every one refused)
    wms_secrets: Mapping[str, str] = field(default_factory=dict)
    wms_window_s: float = 300.0

    def __post_init__(self) -> None:
        if self.connections is None and any(c.channel == "douyin" for c in self.channels):
            raise no_connections("decrypting Douyin pushes")


def intake_router(ports: IntakePorts) -> APIRouter:
    router = APIRouter(tags=["intake"])
    clients: dict[str, Any] = {}
    intake = Intake(ports.ledger, ports.router, ports.clock)
    guard = CallbackGuard(ports.wms_secrets, window_s=ports.wms_window_s)

    async def _decrypted(payload: Any) -> dict[str, str]:
        """Douyin's batch-decrypt of a pushed payload's receivers. When the marketplace
        cannot answer, the push is refused (503) rather than stored with masked
        receivers, which no address or phone check could read: the sender pushes again."""
        pairs = douyin.ciphers(payload)
        config = next((c for c in ports.channels if c.channel == "douyin"), None)
        if not pairs or config is None:
            return {}
        if "douyin" not in clients:
            assert ports.connections is not None  # checked when the ports were made
            clients["douyin"] = ports.connections.marketplace(config)
        for attempt in range(DECRYPT_TRIES):
            try:
                return await clients["douyin"].decrypt(pairs)
            except Exception as exc:  # whatever failed, the push is refused whole below
                log.warning("douyin batch decrypt failed (try %d of %d): %s", attempt + 1,
                            DECRYPT_TRIES, exc)
                await asyncio.sleep(0.05 * 2 ** attempt)
        raise HTTPException(503, "douyin batch decrypt failed; nothing was stored, push again",
                            headers={"Retry-After": "1"})

    @router.post("/push/{channel}", dependencies=[Depends(records_capped)])
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
        taken = await intake.take_in(channel, shop, page.orders, page.quarantined)
        return {"accepted": len(taken.stored), "new": len(taken.new),
                "quarantined": taken.quarantined}

    @router.post("/wms/status", dependencies=[Depends(records_capped)])
    async def wms_status(request: Request) -> dict[str, int]:
        """Status callbacks from the WMS: picked, packed, shipped with tracking number,
        signed by the warehouse (``hub.api.signed_callback``)."""
        raw = await request.body()
        try:
            guard.check(request.headers, raw)
        except CallbackRefused as exc:
            raise HTTPException(exc.status, exc.reason) from None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"bad status callback: body is not JSON: {exc}") from None
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise HTTPException(400, "bad status callback: expected a list of events or "
                                     '{"events": [...]}')
        try:
            recorded = await record_status(items, ports.ledger, ports.clock.now())
        except StatusRefused as exc:
            raise HTTPException(400, f"bad status callback: {exc}") from None
        return {"recorded": recorded}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return router

