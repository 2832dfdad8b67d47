"""ShopPullers: every shop's ChannelPuller in one actor process.

Pulling waits on the marketplaces and the ledger most of the time, so one event loop
serves all the shops of a hub; each Ray worker process also costs CPU of its own even
when idle. A puller whose loop fails is started again by the next ``run`` call (the
hub's loop supervisor makes it) while the others go on; a killed process restarts every
puller, each from the cursor the ledger holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.actors.puller import ChannelPuller
from hub.app.leases import Lease
from hub.app.ports import Connections, DecisionQueue, IntakeLedger
from hub.clock import Clock
from hub.config import ChannelConfig


class ShopPullers:
    """Plain class; the runtime wraps it with ``ray.remote``. ``leases``: one per
    channel, in the order of ``channels`` (None where the shop is not shared)."""

    puller_class: type[ChannelPuller] = ChannelPuller

    def __init__(
        self,
        channels: Sequence[ChannelConfig],
        ledger: IntakeLedger,
        router: DecisionQueue,
        clock: Clock | None = None,
        *,
        start_at: datetime | None = None,
        connections: Connections | None = None,
        gc_threshold: tuple[int, ...] | None = None,
        leases: Sequence[Lease | None] | None = None,
        pull_log: Any = None,
    ) -> None:
        leases = list(leases) if leases is not None else [None] * len(channels)
        if len(leases) != len(channels):
            raise ValueError(f"{len(leases)} leases for {len(channels)} channels")
        self.pullers = [
            self.puller_class(channel, ledger, router, clock, start_at=start_at,
                          connections=connections, gc_threshold=gc_threshold, lease=lease,
                          pull_log=pull_log)
            for channel, lease in zip(channels, leases, strict=True)]
        self._loops: dict[int, asyncio.Task] = {}

    async def run(self) -> None:
        """Start the loop of every puller not pulling now; return when one of them
        failed (the caller calls again) or all stopped."""
        for i, puller in enumerate(self.pullers):
            loop = self._loops.get(i)
            if loop is None or loop.done():
                self._loops[i] = asyncio.get_running_loop().create_task(puller.run())
        await asyncio.wait(self._loops.values(), return_when=asyncio.FIRST_EXCEPTION)

    def stop(self) -> None:
        for puller in self.pullers:
            puller.stop()

    def stats(self) -> list[dict[str, Any]]:
        """Each puller's counters, in the order of the channels."""
        return [p.stats() for p in self.pullers]

    def pull_schedule(self) -> list[dict[str, Any]]:
        return [p.pull_schedule() for p in self.pullers]
