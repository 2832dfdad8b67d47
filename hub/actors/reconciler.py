"""Reconciler: every M minutes, ask the marketplaces for the current status of the
orders in flight (per shop, within a per-round budget of their quotas), the WMS for its
stage, and compare both with the ledger (the use case ``hub.app.reconcile``; the rules
``hub.domain.reconcile``): a disagreement that lasts is a ``reconcile_mismatch``, a
cancelled order the WMS shipped a ``shipped_after_cancel`` with an alert to customer
service. When hubs share one ledger, each reconciles the shops its hub holds the leases
of (``leases``, ``hub_id``, ``shops``): the marketplace is asked by the hub that pulls it.

>>> mismatch("paid", "packed", "dispatched")
'WMS says packed but the ledger still says dispatched'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.app.leases import held_names
from hub.app.ports import Connections, Leases, no_connections
from hub.app.reconcile import MARKET_BUDGET, Memory, reconcile_once
from hub.app.records import OrderKey, StageEvent, cursor_lease
from hub.clock import Clock
from hub.domain.outbox import OutboxMessage
from hub.domain.reconcile import mismatch as mismatch

log = logging.getLogger("orderhub.reconciler")


@dataclass(frozen=True, slots=True)
class ReconcileHandle:
    """The ledger actor as ``hub.app.reconcile.ReconcileLedger``."""

    actor: Any

    async def reconcile_candidates(self, sample: int) -> list[dict[str, Any]]:
        return await self.actor.call.remote("reconcile_candidates", sample)

    async def record_stage(self, events: Sequence[StageEvent],
                           outbox: Sequence[OutboxMessage]) -> int:
        return await self.actor.record_stage.remote(events, outbox)


@dataclass(frozen=True, slots=True)
class HeldShops:
    """The ledger's candidates, only of the shops this hub holds the leases of."""

    store: Any
    held: set[str]

    async def reconcile_candidates(self, sample: int) -> list[dict[str, Any]]:
        views = await self.store.reconcile_candidates(sample)
        return [v for v in views if cursor_lease(v["key"][0], v["key"][1]) in self.held]

    async def record_stage(self, events: Sequence[StageEvent],
                           outbox: Sequence[OutboxMessage]) -> int:
        return await self.store.record_stage(events, outbox)


def _key(config: Any) -> tuple[str, str]:
    return (str(getattr(config.channel, "value", config.channel)), config.shop)


class Reconciler:
    def __init__(self, ledger: Any, wms: Any, clock: Clock | None = None, *,
                 interval_s: float = 300.0, sample: int = 2000, wms_url: str = "",
                 settle_wall_s: float = 10.0, connections: Connections | None = None,
                 channels: Sequence[Any] = (), markets: dict[tuple[str, str], Any] | None = None,
                 market_budget: int = MARKET_BUDGET, leases: Leases | None = None,
                 hub_id: str = "", shops: frozenset[str] = frozenset()) -> None:
        needs_clients = (wms is None and wms_url) or (channels and markets is None)
        if needs_clients and connections is None:
            raise no_connections("the reconciler")
        if wms is None and wms_url:
            wms = connections.wms(wms_url)  # type: ignore[union-attr]
        if markets is None:
            markets = {_key(c): connections.marketplace(c)  # type: ignore[union-attr]
                       for c in channels}
        self.ledger, self.clock = ledger, clock or Clock()
        self.store = ReconcileHandle(ledger)
        self.wms, self.markets = wms, markets
        self.interval_s, self.sample, self.market_budget = interval_s, sample, market_budget
        # a suspect is raised if still there next round and ``settle_wall_s`` later: status
        # reaches the ledger at the hub's real speed, also when the clock is scaled
        self.settle_wall_s = settle_wall_s
        self.memory = Memory()
        self.leases, self.hub_id, self.shops = leases, hub_id, shops
        self.counts = {"raised": 0, "shipped_after_cancel": 0, "asked": 0, "answered": 0}
        self._stopping = False
        self._wake: asyncio.Event | None = None

    @property
    def raised(self) -> int:
        return self.counts["raised"]

    async def reconcile_once(self) -> list[dict]:
        store: Any = self.store
        if self.leases is not None:
            store = HeldShops(store, await held_names(self.leases, self.hub_id, self.shops))
        done = await reconcile_once(
            store, self.wms, self.markets, self.memory, now=self.clock.now(),
            wall=time.monotonic(), sample=self.sample, budget=self.market_budget,
            settle_wall_s=self.settle_wall_s)
        self.counts["asked"] += done.asked
        self.counts["answered"] += done.answered
        if done.found:
            self.counts["raised"] += len(done.found)
            self.counts["shipped_after_cancel"] += sum(
                f["reason"] == "shipped_after_cancel" for f in done.found)
            log.warning("reconciler raised %d findings", len(done.found))
        return done.found

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.reconcile_once()
            except Exception:  # the actor's loop outlives any one round (WMS, ledger away)
                log.exception("reconcile round failed")
            self._wake = self._wake or asyncio.Event()
            with contextlib.suppress(TimeoutError):  # ``stop()`` ends the wait at once
                await asyncio.wait_for(self._wake.wait(),
                                       self.clock.wall_seconds(self.interval_s))

    def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def stats(self) -> dict[str, Any]:
        return dict(self.counts)


__all__ = ["HeldShops", "OrderKey", "ReconcileHandle", "Reconciler", "mismatch"]
