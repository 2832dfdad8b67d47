"""What the outside world posts to the hub: marketplace pushes and WMS status.

A push is each marketplace's message envelope (``hub.api.push_envelope``), signed as
that platform signs it (``hub.api.push_signature``): unsigned, wrongly signed or stale
pushes are refused (401), a message id taken in lately is answered without storing it
again. Its orders are taken in as a pulled page's are (``hub.app.intake``): adapters,
quarantine for bad records, the ledger's idempotent ingest, then the router. A status
callback is recorded as the status feed is (``hub.app.warehouse``). Nothing is
acknowledged (200) before the ledger has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request

from hub.api.limits import json_body, records_capped
from hub.api.push_envelope import EnvelopeError, messages
from hub.api.push_signature import PushCredential, PushGuard, PushRefused
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
    (their app key and secret check the shops' pushes; Douyin's decrypts pushed
    receivers); ``push_window_s``: how far a push's time may be from the hub's clock."""

    ledger: IntakeStore
    router: DecisionQueue
    clock: Clock
    channels: Sequence[ChannelConfig] = ()
    connections: Connections | None = None  # builds Douyin's client to decrypt pushes
    # warehouse name -> secret of its signed status callbacks (none: every one refused)
    wms_secrets: Mapping[str, str] = field(default_factory=dict)
    wms_window_s: float = 300.0
    push_window_s: float = 300.0

    def __post_init__(self) -> None:
        if self.connections is None and any(c.channel == "douyin" for c in self.channels):
            raise no_connections("decrypting Douyin pushes")


def intake_router(ports: IntakePorts) -> APIRouter:
    router = APIRouter(tags=["intake"])
    clients: dict[str, Any] = {}
    intake = Intake(ports.ledger, ports.router, ports.clock)
    guard = CallbackGuard(ports.wms_secrets, window_s=ports.wms_window_s)
    push_guard = PushGuard(
        {(c.channel, c.shop): PushCredential(c.app_key, c.app_secret.get_secret_value())
         for c in ports.channels}, window_s=ports.push_window_s)

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
        """A marketplace's signed message push: each message carries an order record as
        the pull API serves it. ``duplicate_messages``: ids taken in lately, not stored
        again."""
        if channel not in ADAPTERS:
            raise HTTPException(404, f"unknown channel {channel!r}")
        raw = await request.body()
        shop = push_guard.shop_of(channel, shop)
        try:
            push_guard.check(channel, shop, request.headers, request.query_params, raw)
            pushed = messages(channel, raw, partial(json_body, request))
            for message in pushed:
                if message.sent_s is not None:
                    push_guard.check_time(message.sent_s, f"message {message.msg_id} msg_time")
        except PushRefused as exc:
            raise HTTPException(exc.status, exc.reason) from None
        except EnvelopeError as exc:
            raise HTTPException(400, f"bad push: {exc}") from None
        new = push_guard.unseen(channel, (m.msg_id for m in pushed))
        fresh = [m for m, is_new in zip(pushed, new, strict=True) if is_new]
        records = [record for m in fresh for record in m.records]
        try:
            if channel == "douyin":  # receivers arrive encrypted, as they do when pulled
                page = douyin.parse_any(records, shop, await _decrypted(records))
            else:
                page = parse_any(channel, records, shop)
        except ValueError as exc:
            raise HTTPException(400, f"bad push: {exc}") from None
        except MarketplaceError as exc:
            raise HTTPException(400, f"error envelope pushed: {exc}") from None
        taken = await intake.take_in(channel, shop, page.orders, page.quarantined)
        push_guard.taken(channel, (m.msg_id for m in fresh))
        return {"accepted": len(taken.stored), "new": len(taken.new),
                "quarantined": taken.quarantined, "duplicate_messages": len(pushed) - len(fresh)}

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
            body = json_body(request, raw)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"bad status callback: body is not JSON: {exc}") from None
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise HTTPException(400, "bad status callback: expected a list of events or "
                                     '{"events": [...]}')
        try:
            recorded = await record_status(items, ports.ledger, ports.clock.now(),
                                          orders=ports.ledger)
        except StatusRefused as exc:
            raise HTTPException(400, f"bad status callback: {exc}") from None
        return {"recorded": recorded}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return router

