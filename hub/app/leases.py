"""Hubs that share one ledger divide the shops between them with leases (docs/leases.md).

A lease is a row in the ledger: a name, its holder (a hub id), an expiry and an epoch,
the fencing token raised at every change of holder. The holder renews it every third
of its time to live; a hub that dies stops renewing, and within one time to live
another hub takes it with the next epoch. Whatever the lease guards (a shop's pull
cursor) is written with the epoch, and the ledger refuses the write unless that epoch
is the lease's current one: a hub that lost its lease cannot move the cursor, even if
it has not noticed yet.

Fair share: every hub shows it is alive with presence leases (``hub/<id>/...``); a hub
holds at most ``ceil(shops / live hubs)`` of the shared leases and gives up the extras
(the last by name) when more hubs are alive, so a hub that joins gets its share.

One :class:`Lease` is held by the loop that does the guarded work (a puller for its
shop, the relay for the WMS status feed): it ticks between two rounds of that work,
so a lease is never given up while a pull is under way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.app.ports import Leases
from hub.app.records import LeaseRecord
from hub.errors import OrderHubError

log = logging.getLogger("orderhub.leases")
PRESENCE = "hub/"  # presence leases: hub/<hub id>/<lease it stands for>
EXPIRY_SLACK_S = 0.05  # a lease another hub holds is looked at again this long after it ends


def wall_now() -> datetime:
    """Leases run in wall time (never a rehearsal's scaled business time)."""
    return datetime.now(UTC)


def fair_share(shared: int, hubs: int) -> int:
    """How many of ``shared`` leases one of ``hubs`` live hubs may hold.

    >>> fair_share(3, 1), fair_share(3, 2), fair_share(3, 3), fair_share(3, 5)
    (3, 2, 1, 1)
    """
    return math.ceil(shared / max(hubs, 1))


def live_hubs(rows: Iterable[LeaseRecord], now: datetime) -> set[str]:
    """The hubs whose presence leases are running at ``now``."""
    return {r.holder for r in rows if r.name.startswith(PRESENCE) and r.expires_at > now}


def held_by(rows: Iterable[LeaseRecord], hub_id: str, now: datetime,
            names: Collection[str] | None = None) -> list[str]:
    """The names (among ``names``, when given) whose lease ``hub_id`` holds at ``now``."""
    return sorted(r.name for r in rows if r.holder == hub_id and r.expires_at > now
                  and not r.name.startswith(PRESENCE) and (names is None or r.name in names))


@dataclass(frozen=True)
class LeaseTerms:
    """``hub_id``: who holds; ``ttl_s``: how long a lease runs unrenewed; ``shared``: the
    names the live hubs divide fairly (the shops); a name outside it is first come."""

    hub_id: str
    ttl_s: float = 15.0
    shared: frozenset[str] = frozenset()

    @property
    def renew_s(self) -> float:
        return self.ttl_s / 3


class Lease:
    """One named lease as the loop that does its work holds it::

        await lease.tick()            # between two rounds: renew, take or give up
        if (epoch := lease.holding()) is not None:
            ...                       # the work, its writes fenced with ``epoch``
        await lease.release()         # when the loop stops
    """

    def __init__(self, leases: Leases, terms: LeaseTerms, name: str, *,
                 wall: Callable[[], datetime] = wall_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.leases, self.terms, self.name = leases, terms, name
        self.wall, self.monotonic = wall, monotonic
        self.presence = f"{PRESENCE}{terms.hub_id}/{name}"
        self.epoch: int | None = None
        self._presence_epoch: int | None = None
        self._valid_until = -math.inf  # monotonic: the lease as this holder last renewed it
        self._next_tick = -math.inf
        self.changes = 0  # times taken or lost (shown in stats)

    @property
    def next_tick(self) -> float:
        """When (monotonic) the next tick is due."""
        return self._next_tick

    def holding(self) -> int | None:
        """The epoch held, while at least a renewal period of the lease is left (work is
        started only then); else None."""
        if self.epoch is None or self.monotonic() + self.terms.renew_s > self._valid_until:
            return None
        return self.epoch

    def lost(self, why: str) -> None:
        """The ledger refused a write fenced with this lease: another hub holds it."""
        if self.epoch is not None:
            log.warning("lease %s (epoch %d) lost: %s", self.name, self.epoch, why)
            self.changes += 1
        self.epoch, self._valid_until, self._next_tick = None, -math.inf, -math.inf

    async def tick(self) -> int | None:
        """At most every ``ttl_s / 3``: renew the lease held (or find it lost), take it
        when free and within the fair share, give it up when over the share."""
        began = self.monotonic()
        if began < self._next_tick:
            return self.holding()
        self._next_tick = began + self.terms.renew_s
        try:
            await self._tick(began)
        except OrderHubError as exc:  # the ledger is away: the lease runs out on its own
            log.warning("lease %s: renewal failed (%s); it runs out in %.1fs", self.name,
                        exc, max(self._valid_until - self.monotonic(), 0.0))
        return self.holding()

    async def _tick(self, began: float) -> None:
        terms, now = self.terms, self.wall()
        shared = self.name in terms.shared
        rows: list[LeaseRecord] = []
        if shared:
            self._presence_epoch = await self.leases.lease_acquire(
                self.presence, terms.hub_id, terms.ttl_s, now, self._presence_epoch)
            rows = await self.leases.leases()
        if self.epoch is not None:
            got = await self.leases.lease_acquire(self.name, terms.hub_id, terms.ttl_s, now,
                                                  self.epoch)
            if got is None:
                self.lost("another hub holds it now")
                return
            self._valid_until = began + terms.ttl_s
            if shared and self._over_share(rows, now):
                await self.release()
            return
        if shared:
            row = next((r for r in rows if r.name == self.name), None)
            busy = row is not None and row.expires_at > now and row.holder != terms.hub_id
            if busy or self._over_share(rows, now, taking=True):
                self._look_again(rows, now, began)
                return
        got = await self.leases.lease_acquire(self.name, terms.hub_id, terms.ttl_s, now)
        if got is not None:
            self.epoch, self._valid_until = got, began + terms.ttl_s
            self.changes += 1
            log.info("lease %s taken by hub %s (epoch %d)", self.name, terms.hub_id, got)

    def _look_again(self, rows: list[LeaseRecord], now: datetime, began: float) -> None:
        """Tick again as soon as this lease, or another hub's presence, runs out (a dead
        hub's shops are then taken at once, not a renewal period later)."""
        mine = f"{PRESENCE}{self.terms.hub_id}/"
        ends = [r.expires_at for r in rows if r.expires_at > now and (
            r.name == self.name or (r.name.startswith(PRESENCE) and not r.name.startswith(mine)))]
        if ends:
            left = (min(ends) - now).total_seconds() + EXPIRY_SLACK_S
            self._next_tick = min(self._next_tick, began + left)

    def _over_share(self, rows: list[LeaseRecord], now: datetime, taking: bool = False) -> bool:
        """Holding this lease (or taking it) puts the hub over its fair share: it gives up
        the last of its shared leases by name."""
        terms = self.terms
        share = fair_share(len(terms.shared), len(live_hubs(rows, now) | {terms.hub_id}))
        mine = held_by(rows, terms.hub_id, now, terms.shared)
        if taking:
            return len(mine) >= share
        mine = sorted({*mine, self.name})
        return self.name in mine[share:]

    async def release(self) -> None:
        """Give the lease up now (between two rounds of its work, or at stop)."""
        if self.epoch is None:
            return
        epoch, self.epoch, self._valid_until = self.epoch, None, -math.inf
        self.changes += 1
        try:
            await self.leases.lease_release(self.name, self.terms.hub_id, epoch, self.wall())
            log.info("lease %s (epoch %d) given up by hub %s", self.name, epoch,
                     self.terms.hub_id)
        except OrderHubError as exc:  # not given back: it runs out after its time to live
            log.warning("lease %s: release failed (%s)", self.name, exc)

    def stats(self) -> dict[str, object]:
        return {"lease": self.name, "hub": self.terms.hub_id, "epoch": self.holding(),
                "changes": self.changes}


async def held_names(leases: Leases, hub_id: str, names: Collection[str],
                     now: datetime | None = None) -> set[str]:
    """Which of ``names`` ``hub_id`` holds now (the reconciler works on those shops)."""
    return set(held_by(await leases.leases(), hub_id, now or wall_now(), names))
