"""The ledger actor as the leases' port (``hub.app.ports.Leases``), and the pull log.

The pull log is one structured line per pull: which hub pulled which shop, holding which
lease epoch, from when to when (wall time). Read from every hub's log, it shows whether
two hubs ever pulled one shop at the same time (tests/runtime/test_two_hubs.py does).
It goes to the ``orderhub.pulls`` logger (so to the hub's log) and, when a file is
configured (``[leases] pull_log``), to that file too, one JSON object a line, flushed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.app.leases import Lease, LeaseTerms
from hub.app.records import LeaseRecord, cursor_lease
from hub.config import LeaseConfig

log = logging.getLogger("orderhub.pulls")


@dataclass(frozen=True, slots=True)
class LeaseHandle:
    """A ``LedgerService`` actor as ``hub.app.ports.Leases``."""

    actor: Any

    async def lease_acquire(self, name: str, holder: str, ttl_s: float, now: datetime,
                            epoch: int | None = None) -> int | None:
        return await self.actor.call.remote("lease_acquire", name, holder, ttl_s, now, epoch)

    async def lease_release(self, name: str, holder: str, epoch: int, now: datetime) -> bool:
        return await self.actor.call.remote("lease_release", name, holder, epoch, now)

    async def leases(self, prefix: str = "") -> list[LeaseRecord]:
        return await self.actor.call.remote("leases", prefix)


class PullLog:
    """``PullLog(hub_id, path).pulled(...)`` after every pull."""

    def __init__(self, hub_id: str, path: str | Path | None = None) -> None:
        self.hub_id, self.path = hub_id, str(path) if path else None
        self._file: Any = None

    def pulled(self, channel: str, shop: str, epoch: int | None, start: float, end: float,
               *, fetched: int = 0, new: int = 0, error: str = "") -> dict[str, Any]:
        line = {"hub": self.hub_id, "channel": channel, "shop": shop, "epoch": epoch,
                "start": round(start, 6), "end": round(end, 6), "fetched": fetched,
                "new": new, "ok": not error}
        text = json.dumps(line, sort_keys=True)
        log.info("pulled %s", text)
        if self.path is not None:
            if self._file is None:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._file.write(text + "\n")
        return line


def new_hub_id() -> str:
    """A hub id unique to this process: ``<host>-<pid>-<4 hex>``."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class HubLeases:
    """What ``hub.runtime`` hands the pullers, the relay and the reconciler: this hub's id,
    a lease for each shop (``None`` for each when leases are off), the pull log."""

    def __init__(self, config: LeaseConfig, ledger_url: str, ledger_actor: Any,
                 channels: Sequence[Any]) -> None:
        self.on = config.on(ledger_url)
        self.hub_id = config.hub_id or new_hub_id()
        self.shops = frozenset(cursor_lease(c.channel.value, c.shop) for c in channels)
        self.port = LeaseHandle(ledger_actor)
        self.shared = LeaseTerms(self.hub_id, config.ttl_s, self.shops)
        self.alone = LeaseTerms(self.hub_id, config.ttl_s)  # first come, not divided
        self.pull_log = (PullLog(self.hub_id, config.pull_log)
                         if self.on or config.pull_log else None)

    def shop(self, channel: Any) -> Lease | None:
        """The lease of a configured channel's shop."""
        if not self.on:
            return None
        return Lease(self.port, self.shared, cursor_lease(channel.channel.value, channel.shop))

    def single(self, channel: str, shop: str) -> Lease | None:
        """A lease one hub holds at a time, not divided (the WMS status feed)."""
        return Lease(self.port, self.alone, cursor_lease(channel, shop)) if self.on else None
