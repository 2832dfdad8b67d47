"""Reconciler: every M minutes, set the marketplace's status, the WMS's status and
the ledger's stage of recent orders side by side, and raise a mismatch with both
sides' facts.

>>> mismatch("shipped", None, "routed")
'marketplace says shipped but the WMS has no such order'
>>> mismatch("paid", "packed", "dispatched")
'WMS says packed but the ledger still says dispatched'
>>> mismatch("paid", "picked", "picked") is None
True
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from hub.app.ports import Connections, no_connections
from hub.clock import Clock
from hub.domain.decision import Stage
from hub.domain.order import OrderStatus

log = logging.getLogger("orderhub.reconciler")

WMS_ORDER = [Stage.DISPATCHED, Stage.PICKED, Stage.PACKED, Stage.SHIPPED]
GRACE_STAGES = {Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED, Stage.HELD, Stage.CANCELLED,
                Stage.RECONCILE_MISMATCH}


def mismatch(marketplace: str, wms: str | None, ledger: str) -> str | None:
    """The disagreement between three views of one order, or None."""
    if marketplace in (OrderStatus.SHIPPED, OrderStatus.FINISHED) and wms is None:
        return f"marketplace says {marketplace} but the WMS has no such order"
    if wms is None:
        if ledger in WMS_ORDER:
            return f"ledger says {ledger} but the WMS has no such order"
        return None
    if marketplace == OrderStatus.CANCELLED and wms == Stage.SHIPPED:
        return "marketplace says cancelled but the WMS shipped it"
    if ledger in GRACE_STAGES:
        return None
    ahead = WMS_ORDER.index(wms) if wms in WMS_ORDER else -1
    behind = WMS_ORDER.index(ledger) if ledger in WMS_ORDER else -1
    if ahead > behind:
        return f"WMS says {wms} but the ledger still says {ledger}"
    return None


class Reconciler:
    def __init__(self, ledger: Any, wms: Any, clock: Clock | None = None, *,
                 interval_s: float = 300.0, sample: int = 2000, wms_url: str = "",
                 settle_wall_s: float = 10.0, connections: Connections | None = None) -> None:
        if wms is None and wms_url:
            if connections is None:
                raise no_connections("the reconciler")
            wms = connections.wms(wms_url)
        self.ledger, self.clock = ledger, clock or Clock()
        self.wms = wms
        self.interval_s, self.sample = interval_s, sample
        self.raised = 0
        self._seen: set[tuple] = set()
        # seen once: raised if still there next round and ``settle_wall_s`` later. Status
        # reaches the ledger at the hub's real speed, also when the clock is scaled.
        self._suspects: dict[tuple, tuple[str, float]] = {}
        self.settle_wall_s = settle_wall_s
        self._stopping = False

    async def reconcile_once(self) -> list[dict]:
        from hub.app.records import StageEvent

        views = await self.ledger.call.remote("reconcile_candidates", self.sample)
        if not views:
            return []
        keys = [v["key"] for v in views]
        wms_status = await self.wms.status_of(keys)
        found = []
        suspects: dict[tuple, tuple[str, float]] = {}
        now = time.monotonic()
        for view in views:
            key = tuple(view["key"])
            reason = mismatch(view["marketplace_status"], wms_status.get(key), view["stage"])
            if not reason:
                continue
            before, since = self._suspects.get(key, (None, now))
            suspects[key] = (reason, since if before == reason else now)
            # the WMS and the status feed race each other: only a disagreement that
            # outlives a whole round (and settles) is a mismatch
            if (before == reason and now - since >= self.settle_wall_s
                    and (key, reason) not in self._seen):
                self._seen.add((key, reason))
                found.append({"key": key, "reason": reason,
                              "marketplace": view["marketplace_status"],
                              "wms": wms_status.get(key), "ledger": view["stage"]})
        self._suspects = suspects
        if found:
            await self.ledger.record_stage.remote([
                StageEvent(key=f["key"], stage=Stage.RECONCILE_MISMATCH, at=self.clock.now(),
                           detail={k: str(v) for k, v in f.items() if k != "key"})
                for f in found])
            self.raised += len(found)
            log.warning("reconciler raised %d mismatches", len(found))
        return found

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.reconcile_once()
            except Exception:  # the actor's loop outlives any one round (WMS, ledger away)
                log.exception("reconcile round failed")
            waited = 0.0
            wall = self.clock.wall_seconds(self.interval_s)
            while waited < wall and not self._stopping:
                await asyncio.sleep(min(0.2, wall))
                waited += 0.2

    def stop(self) -> None:
        self._stopping = True
