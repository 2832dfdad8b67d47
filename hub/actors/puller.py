"""ChannelPuller: one per marketplace and shop.

Every ``interval_s`` of business time it pulls the window from the saved cursor
(less an overlap, so records that land late inside an old window are seen) to
now plus a look-ahead, follows every page, quarantines bad records, and moves
the cursor to now less a safety lag in the same ledger transaction as the
window's last orders. Pages are gathered up to ``ingest_batch`` orders for each
ledger call. A marketplace lists only an order's latest version, so an
order that changes while its window is paged leaves a window that ends now; the
look-ahead keeps it in this pull instead of the next one. New or
changed orders go to the router, which may make the puller wait (backpressure).

The overlap brings orders back that the ledger already holds. The puller remembers
the versions the ledger acknowledged (``Acknowledged``) until the window has moved
past them, and sends only the others: a re-read unchanged order costs no ledger call.
In push mode, where pulling only catches up on what the pushes missed, the puller
first asks the ledger which versions it holds (keys only) and sends only the rest.

When hubs share one ledger (``hub.app.leases``), a puller pulls only while its hub holds
the shop's lease, ticks the lease between two pulls, and moves the cursor with the lease
epoch: the ledger refuses the move (``LeaseLost``) once another hub took the shop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.actors.acknowledged import Acknowledged
from hub.app.intake import Intake
from hub.app.leases import Lease
from hub.app.ports import Connections, Cursor, DecisionQueue, IntakeLedger, no_connections
from hub.app.records import LeaseLost, micros
from hub.clock import Clock
from hub.config import ChannelConfig
from hub.gcwatch import GcWatch

log = logging.getLogger("orderhub.puller")

MAX_SPAN = timedelta(hours=23)  # every marketplace caps a window at one day
SCHEDULE_KEPT = 4096  # (due, asked) of the latest pulls, for the rehearsal's measurement


@dataclass
class PullReport:
    channel: str
    shop: str
    start: datetime | None = None
    end: datetime | None = None
    due: datetime | None = None  # when the pull was scheduled to start (business time)
    asked_at: datetime | None = None  # when it asked the marketplace for the window
    pages: int = 0
    fetched: int = 0
    new: int = 0
    known: int = 0  # read again, already acknowledged by the ledger: not sent
    quarantined: int = 0
    error: str = ""
    wall_s: float = 0.0
    totals: dict[str, int] = field(default_factory=dict)
    parts_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))


PARTS = ("cursor", "fetch", "ingest", "submit")  # where a pull's wall time goes


def _received(asked_at: datetime, orders: list) -> datetime:
    """A page was served no earlier than its newest version was made."""
    return max([asked_at, *(o.modified_at for o in orders)])


def _newest(moment: datetime, versions: list[tuple[str, datetime]]) -> datetime:
    return max(moment, *(at for _, at in versions)) if versions else moment


class ChannelPuller:
    """Plain class; the runtime wraps it with ``ray.remote``. ``client`` is a
    ``hub.connectors.marketplace`` client (built here from ``config`` when None);
    ``ledger`` and ``router`` are the intake's ports (``hub.app.ports``)."""

    def __init__(
        self,
        config: ChannelConfig,
        ledger: IntakeLedger,
        router: DecisionQueue,
        clock: Clock | None = None,
        *,
        start_at: datetime | None = None,
        client: Any = None,
        connections: Connections | None = None,
        gc_threshold: tuple[int, ...] | None = None,
        lease: Lease | None = None,
        pull_log: Any = None,
    ) -> None:
        if client is None and connections is None:
            raise no_connections(f"the {config.channel.value}/{config.shop} puller")
        self.connections = connections
        self.config = config
        self.ledger = ledger
        self.router = router
        self.clock = clock or Clock()
        self.start_at = start_at
        self.client = client
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self.totals = {"pulls": 0, "pages": 0, "fetched": 0, "new": 0, "known": 0,
                       "quarantined": 0,
                       "errors": 0, "wall_s_total": 0.0, "wall_s_max": 0.0,
                       "slowest_parts_s": {}}
        self._report: PullReport | None = None
        self._cursor: datetime | None = None  # where the ledger's cursor is, once known
        self.acknowledged = Acknowledged()
        self.intake = Intake(ledger, _Timed(router, self._spent), self.clock)
        self.schedule: deque[tuple[float, float]] = deque(maxlen=SCHEDULE_KEPT)
        self.lease, self.pull_log = lease, pull_log  # hub.app.leases.Lease, actors.leasing
        self._epoch: int | None = None  # the lease epoch the cached cursor was read under
        GcWatch.install(actor=True, threshold=gc_threshold)
        self.last: PullReport | None = None

    def _client(self) -> Any:
        if self.client is None:
            self.client = self.connections.marketplace(self.config)
        return self.client

    async def _window(self) -> tuple[datetime, datetime, datetime]:
        """(start, end, asked_end): the cursor moves to ``end`` (now less the safety
        lag); the marketplace is asked up to ``asked_end`` (now plus the look-ahead)."""
        cursor = self._cursor
        if cursor is None:  # the ledger is read once; after that this puller moves it
            cursor = await self.ledger.get_cursor(self.config.channel.value, self.config.shop)
        now = self.clock.now()  # after the cursor read: that call may take a while
        end = now - timedelta(seconds=self.config.safety_lag_s)
        if cursor is None:
            cursor = self.start_at or end - timedelta(seconds=self.config.interval_s)
        start = cursor - timedelta(seconds=self.config.overlap_s)
        cap = start + MAX_SPAN
        return start, min(end, cap), min(now + timedelta(seconds=self.config.lookahead_s), cap)

    async def pull_once(self, due: datetime | None = None) -> PullReport:
        """One window. ``due``: when the schedule wanted this pull to start (it starts
        late when the previous pull overran); default: now."""
        channel, shop = self.config.channel.value, self.config.shop
        report = self._report = PullReport(channel, shop)
        began, wall_began = time.perf_counter(), time.time()
        epoch = self.lease.holding() if self.lease is not None else None
        if epoch != self._epoch:  # taken (again): the last holder moved the cursor since
            self._cursor, self._epoch = None, epoch
        try:
            start, end, asked_end = await self._window()
            report.parts_s["cursor"] = time.perf_counter() - began
            report.start, report.end = start, end
            # pages gather up to ingest_batch orders a ledger call; the last ones go with
            # the cursor that closes the window
            held: list = []
            bad: list = []
            # received = when the hub asked for the window (from there on, paging included,
            # the time is the hub's own work), or the newest version on the page if later
            asked_at = report.asked_at = self.clock.now()
            report.due = min(due or asked_at, asked_at)
            self.schedule.append((report.due.timestamp(), asked_at.timestamp()))
            # versions the ledger acknowledged are not even converted (``Page.known``)
            known = self.acknowledged.version_of(channel)
            newest = asked_at  # the newest of the known versions read since the last batch
            async for page in self._client().fetch_window(start, asked_end, known=known):
                report.pages += 1
                report.fetched += len(page.orders) + len(page.quarantined) + len(page.known)
                report.known += len(page.known)
                if len(held) >= self.config.ingest_batch:
                    await self._take_in(held, bad, None, _received(newest, held))
                    held, bad, newest = [], [], asked_at
                held.extend(page.orders)
                bad.extend(page.quarantined)
                newest = _newest(newest, page.known)
            await self._take_in(held, bad, Cursor(channel, shop, end, epoch),
                                _received(newest, held))
            self._cursor = end  # durable in the ledger now
            # the next window starts there, in whole seconds (the marketplace's unit)
            self.acknowledged.forget_before(
                (end - timedelta(seconds=self.config.overlap_s)).replace(microsecond=0))
        except Exception as exc:  # the window is retried next time; the cursor did not move
            report.error = f"{type(exc).__name__}: {exc}"
            self.totals["errors"] += 1
            log.warning("pull %s/%s failed: %s", channel, shop, report.error)
            if self.lease is not None and isinstance(exc, LeaseLost):
                self.lease.lost(str(exc))
        report.wall_s = time.perf_counter() - began
        if self.pull_log is not None:
            self.pull_log.pulled(channel, shop, epoch, wall_began, time.time(),
                                 fetched=report.fetched, new=report.new, error=report.error)
        parts = report.parts_s
        parts["fetch"] = max(report.wall_s - sum(parts.values()), 0.0)
        for key in ("pages", "fetched", "new", "known", "quarantined"):
            self.totals[key] += getattr(report, key)
        self.totals["pulls"] += 1
        self.totals["wall_s_total"] += report.wall_s
        if report.wall_s >= self.totals["wall_s_max"]:
            self.totals["wall_s_max"] = report.wall_s
            self.totals["slowest_parts_s"] = {k: round(v, 3) for k, v in parts.items()}
        self.last = report
        overran = report.wall_s > self.clock.wall_seconds(self.config.interval_s)
        log.log(logging.WARNING if overran else logging.INFO,
                "pull %s/%s pages=%d fetched=%d new=%d known=%d quarantined=%d %.3fs (%s)%s",
                channel, shop, report.pages, report.fetched, report.new, report.known,
                report.quarantined,
                report.wall_s, " ".join(f"{k}={v:.3f}" for k, v in parts.items()),
                "; longer than the pull interval, the next pull starts late" if overran else "")
        return report

    async def _take_in(self, orders: list, bad: list, cursor: Any, at: datetime) -> None:
        """Take in ``orders`` the ledger has not acknowledged yet, and the bad records."""
        report = self._report
        assert report is not None
        began, submit_before = time.perf_counter(), report.parts_s["submit"]
        fresh = self.acknowledged.unseen(orders)
        if self.config.push and fresh:
            fresh = await self._not_stored(fresh)
        report.known += len(orders) - len(fresh)
        taken = await self.intake.take_in(self.config.channel.value, self.config.shop, fresh,
                                          bad, cursor=cursor, at=at)
        self.acknowledged.add(taken.stored)
        report.new += len(taken.new)
        report.quarantined += taken.quarantined
        report.parts_s["ingest"] += (time.perf_counter() - began
                                     - (report.parts_s["submit"] - submit_before))

    async def _not_stored(self, orders: list) -> list:
        """A catch-up pull (push mode) re-reads orders the pushes stored already, which
        this puller never sent: ask the ledger for their stored versions (keys only) and
        keep the orders it does not hold at this version or a newer one."""
        stored = await self.ledger.stored_versions([o.key for o in orders])
        known: list = []
        missing: list = []
        for o in orders:
            (known if stored.get(o.key, -1) >= micros(o.modified_at) else missing).append(o)
        self.acknowledged.add(known)
        return missing

    def _spent(self, part: str, began: float) -> None:
        if self._report is not None:
            self._report.parts_s[part] += time.perf_counter() - began

    async def run(self) -> None:
        """Pull every ``interval_s`` (business time), start to start, until ``stop()``;
        with a lease, only while it is held, ticking it between pulls."""
        self._wake = asyncio.Event()
        next_at = time.monotonic()
        lease = self.lease
        while not self._stopping:
            if lease is not None:
                try:
                    await lease.tick()
                except Exception:  # the loop outlives the ledger actor; the lease runs out
                    log.exception("lease %s: tick failed", lease.name)
            if time.monotonic() >= next_at:
                if lease is None or lease.holding() is not None:
                    late_s = self.clock.business_seconds(max(time.monotonic() - next_at, 0.0))
                    await self.pull_once(self.clock.now() - timedelta(seconds=late_s))
                next_at = max(next_at + self.clock.wall_seconds(self.config.interval_s),
                              time.monotonic())
            wake_at = next_at if lease is None else min(next_at, lease.next_tick)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wake_at - time.monotonic())
        if lease is not None:
            await lease.release()  # the last pull is over: another hub may take the shop now

    def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def stats(self) -> dict[str, Any]:
        return {"channel": self.config.channel.value, "shop": self.config.shop, **self.totals,
                "gc": GcWatch.install().snapshot(),
                **({"lease": self.lease.stats()} if self.lease is not None else {})}

    def pull_schedule(self) -> dict[str, Any]:
        """The latest pulls' (due, asked) times, epoch seconds of business time: how late
        each pull started against its schedule."""
        return {"channel": self.config.channel.value, "shop": self.config.shop,
                "pulls": list(self.schedule)}


class _Timed:
    """The router's intake, its time charged to the pull's ``submit`` part."""

    def __init__(self, router: DecisionQueue, spent: Any) -> None:
        self.router, self.spent = router, spent

    async def submit(self, orders: Any) -> int:
        began = time.perf_counter()
        try:
            return await self.router.submit(orders)
        finally:
            self.spent("submit", began)
