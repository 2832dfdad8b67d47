"""Router: batches new orders, runs the validator and scorer pools, applies the rule
set, and commits decisions, stage events and outbox rows in one ledger transaction.

Batches hold up to ``batch_max`` orders or wait ``batch_ms``, whichever comes first.
The queue in front is bounded: ``submit`` waits when it is full, so a fast puller
slows down instead of memory growing.

Every ``redrive_every_s`` (wall) the router asks the ledger for order versions
still undecided after ``redrive_after_s`` and decides them again: a batch lost with a
dead replica, a failed commit, a crashed puller or this actor's own restart (its
queue is memory only). Orders queued or in flight here are skipped, and the
ledger stores one decision per order version however often one is decided.

The merchant's catalogue comes from the ERP (asked what changed every
``catalogue_refresh_s`` of business time, with a batch or in the re-drive round when
none comes): each batch's lines are expanded to merchant SKUs here, checked and drawn
against the inventory snapshot here (one stock per merchant SKU for every channel),
and the pools get the batch's expansions and stock states, not the catalogue. A new
catalogue version sends the orders held as ``unmapped_sku`` that it maps to be decided
again (``redecide``); a version that fails its checks is refused and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ray

from hub.actors.enrichment import CustomerCache, InventoryView, RecentOrders
from hub.actors.workers import for_pools
from hub.app.catalogue import refresh, release_mapped
from hub.app.decide import decide_batch
from hub.app.ports import Connections, no_connections
from hub.app.shadow import ShadowReport, ShadowSlot
from hub.clock import Clock
from hub.config import PoolConfig
from hub.domain.catalogue import Catalogue, expand_batch, skus_of
from hub.domain.order import Order
from hub.domain.priority import stock_states, taken
from hub.gcwatch import GcWatch

log = logging.getLogger("orderhub.router")
IDLE_WAKE_S = 5.0  # an idle batch loop looks at its stop flag this often
RELAY_WAKE_S = 0.2  # the relay is woken at most this often


def _reconstructed() -> bool:
    """Whether this actor is a restart (Ray ran the constructor again)."""
    try:
        return bool(ray.get_runtime_context().was_current_actor_reconstructed)
    except Exception:  # outside an actor (a test, a benchmark): not a restart
        return False


class Router:
    """``ledger``: the decision store (``hub.app.ports.DecisionStore``) that also answers
    ``get_ruleset`` (``hub.actors.handles.LedgerHandle`` in the running hub)."""

    def __init__(
        self,
        ledger: Any,
        validators: Any,
        scorers: Any,
        rules: tuple[int, str],
        pools: PoolConfig,
        clock: Clock | None = None,
        *,
        crm_url: str = "",
        erp_url: str = "",
        crm: Any = None,
        erp: Any = None,
        connections: Connections | None = None,
        crm_ttl_s: float = 600.0,
        inventory_refresh_s: float = 60.0,
        catalogue_refresh_s: float = 30.0,
        queue_max: int = 20_000,
        redrive_every_s: float = 2.0,
        redrive_after_s: float = 2.0,
        gc_threshold: tuple[int, ...] | None = None,
    ) -> None:
        from hub.domain.rules import load_ruleset

        self.ledger, self.validators, self.scorers = ledger, validators, scorers
        self.pools, self.clock = pools, clock or Clock()
        self.crm, self.erp = crm, erp
        self._urls = (crm_url, erp_url)
        if connections is None and ((crm_url and crm is None) or (erp_url and erp is None)):
            raise no_connections("the router")
        self.connections = connections
        self.rules_ref = rules
        self.ruleset = load_ruleset(rules[1], f"ruleset-v{rules[0]}")
        self.customers = CustomerCache(crm_ttl_s)
        self.inventory = InventoryView()
        self.inventory_refresh_s = inventory_refresh_s
        self.catalogue: Catalogue | None = None  # None: lines are read as they are
        self.catalogue_refresh_s = catalogue_refresh_s
        self._catalogue_asked_at: float | None = None
        self._catalogue_refused: int | None = None
        self._catalogue_lock = asyncio.Lock()
        self._inventory_lock = asyncio.Lock()
        self._again: dict[tuple, str] = {}  # (key, version) -> the hold's reason
        self.recent = RecentOrders(timedelta(minutes=self.ruleset.duplicate_window_minutes),
                                   pools.recent_orders_max)
        self.queue_max = queue_max
        self._queue: list[Order] = []
        self._pending_keys: set[tuple] = set()
        self._space = asyncio.Condition()
        self._arrived = asyncio.Event()  # set when orders are queued: an idle loop sleeps
        self._inflight = asyncio.Semaphore(pools.max_inflight_batches)
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None
        self._redrive_task: asyncio.Task | None = None
        self.redrive_every_s, self.redrive_after_s = redrive_every_s, redrive_after_s
        self._redriving = asyncio.Lock()
        self._done_during_redrive: set[tuple] | None = None
        self._retaken = False
        self._stopping = False
        self.counts = {"submitted": 0, "decided": 0, "committed": 0, "batches": 0, "held": 0,
                       "redriven": 0, "errors": 0, "redecided": 0}
        self.peak_backlog = 0
        self._inflight_orders = 0
        self.shadow = ShadowSlot()  # a draft deciding beside the live rules (issue #22)
        self.relay: Any = None  # the outbox relay, woken after a commit (attach_relay)
        self._relay_woken = 0.0
        GcWatch.install(actor=True, threshold=gc_threshold)

    # -- intake ---------------------------------------------------------------------------
    async def submit(self, orders: Sequence[Order]) -> int:
        self._ensure_loop()
        async with self._space:
            await self._space.wait_for(lambda: len(self._queue) < self.queue_max)
            done = self._done_during_redrive or ()
            fresh = [o for o in orders
                     if (o.key, o.modified_at) not in self._pending_keys
                     and (o.key, o.modified_at) not in done]
            self._pending_keys.update((o.key, o.modified_at) for o in fresh)
            self._queue.extend(fresh)
            if fresh:
                self._arrived.set()
            self.counts["submitted"] += len(fresh)
            self.peak_backlog = max(self.peak_backlog, self.backlog())
        return len(fresh)

    async def redecide(self, orders: Sequence[Order], reason: str) -> int:
        """Decide held order versions again (``hub.app.ports.RedecisionQueue``): the
        ledger stores the new decision over the held one while it is still held."""
        for o in orders:
            self._again[(o.key, o.modified_at)] = reason
        queued = await self.submit(orders)
        self.counts["redecided"] += queued
        return queued

    def attach_relay(self, relay: Any) -> None:
        """The outbox relay actor: told after each commit that it has rows to deliver
        (at most every ``RELAY_WAKE_S``), so an idle relay can wait long."""
        self.relay = relay

    def _wake_relay(self) -> None:
        now = time.monotonic()
        if self.relay is not None and now - self._relay_woken >= RELAY_WAKE_S:
            self._relay_woken = now
            self.relay.wake.remote()  # fire and forget: the relay polls anyway

    def backlog(self) -> int:
        return len(self._queue) + self._inflight_orders


    def set_rules(self, version: int, text: str) -> int:
        """Swap in a checked rule set; batches already formed keep the version they had."""
        from hub.domain.rules import load_ruleset

        self.ruleset = load_ruleset(text, f"ruleset-v{version}")
        self.rules_ref = (version, text)
        log.info("rules version %d in force", version)
        return version

    # -- the batch loop -------------------------------------------------------------------
    def _ensure_loop(self) -> None:
        """Start the batch and re-drive loops, or start again one that failed."""
        if self.connections is not None:  # built here: an httpx client cannot cross processes
            self.crm = self.crm or self.connections.crm(self._urls[0])
            self.erp = self.erp or self.connections.erp(self._urls[1])
        loop = asyncio.get_running_loop()
        if self._loop_task is None or (self._loop_task.done() and not self._stopping):
            self._loop_task = loop.create_task(self._run())
        stale = self._redrive_task is None or self._redrive_task.done()
        if self.redrive_every_s > 0 and stale and not self._stopping:
            self._redrive_task = loop.create_task(self._redrive_loop())

    async def start(self) -> None:
        await self._sync_rules()
        self._ensure_loop()

    async def run(self) -> None:
        """Start (again, after a restart) and return when the router has drained. A
        restarted router lost its queue: what the ledger holds undecided is taken back
        at once, not at the next re-drive round."""
        await self.start()
        if _reconstructed() and not self._retaken:
            self._retaken = True
            await self.redrive(0.0)
        assert self._loop_task is not None
        await self._loop_task

    async def _sync_rules(self) -> None:
        """A restarted router comes back with the rules it was built with: take the
        version in force from the ledger if it is newer."""
        latest = await self.ledger.get_ruleset(None)
        if latest is not None and latest.version > self.rules_ref[0]:
            self.set_rules(latest.version, latest.text)

    async def _run(self) -> None:
        while not self._stopping or self._queue:
            if not self._queue:
                self._arrived.clear()
                # idle: woken by the first order queued (or a stop), not by a timer
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), IDLE_WAKE_S)
                continue
            if len(self._queue) < self.pools.batch_max:
                await asyncio.sleep(self.pools.batch_ms / 1000)
            await self._inflight.acquire()
            async with self._space:
                batch = self._queue[: self.pools.batch_max]
                del self._queue[: len(batch)]
                self._space.notify_all()
            task = asyncio.get_running_loop().create_task(self._decide(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _enrich(self, batch: list[Order]) -> list[Order]:
        if self.crm is not None:
            missing = self.customers.missing(o.buyer.id for o in batch)
            if missing:
                try:
                    self.customers.put(await self.crm.lookup(missing))
                except Exception as exc:  # decide with what we have; tiers fill in later
                    log.warning("CRM lookup failed: %s", exc)
            batch = self.customers.apply(batch)
        if self.erp is not None and self._inventory_stale():
            async with self._inventory_lock:  # one batch asks; the others wait for it
                if self._inventory_stale():
                    now = time.monotonic()
                    self.inventory.asking()
                    try:
                        self.inventory.refresh(await self.erp.inventory(), now)
                    except Exception as exc:  # decide with the stock known; asked again
                        log.warning("ERP inventory failed: %s", exc)
        await self._refresh_catalogue()
        return batch

    def _inventory_stale(self) -> bool:
        taken_at = self.inventory.taken_at
        return taken_at is None or (time.monotonic() - taken_at
                                    > self.clock.wall_seconds(self.inventory_refresh_s))

    async def _refresh_catalogue(self) -> None:
        """Ask the ERP what changed in the catalogue, when it was last asked longer ago
        than ``catalogue_refresh_s`` (business time); a new version in force sends the
        orders it now maps to be decided again."""
        if self.erp is None:
            return
        due = self.clock.wall_seconds(self.catalogue_refresh_s)
        asked = self._catalogue_asked_at
        if asked is not None and time.monotonic() - asked <= due \
                and not self._catalogue_lock.locked():
            return
        async with self._catalogue_lock:  # a batch waits for the answer another asked for
            asked = self._catalogue_asked_at
            if asked is not None and time.monotonic() - asked <= due:
                return
            self._catalogue_asked_at = time.monotonic()
            try:
                got = await refresh(self.catalogue, self.erp, self._catalogue_refused)
            except Exception as exc:  # decide with the catalogue in force; asked again later
                log.warning("ERP catalogue failed: %s", exc)
                return
            if got.refused:
                self._catalogue_refused = got.version
            if not got.changed or got.catalogue is None:
                return
            self.catalogue = got.catalogue
        # its own task: a batch must not wait on the queue it is holding a slot of
        task = asyncio.get_running_loop().create_task(self._release_mapped(got.catalogue))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release_mapped(self, catalogue: Catalogue) -> None:
        try:
            await release_mapped(self.ledger, self, catalogue)
        except Exception as exc:  # the next catalogue version or a restart asks again
            log.warning("deciding again the orders the catalogue maps failed: %s", exc)

    async def _decide(self, batch: list[Order]) -> None:
        self._inflight_orders += len(batch)
        began = time.perf_counter()
        try:
            batch = await self._enrich(batch)
            ref, ruleset = self.rules_ref, self.ruleset
            lines = expand_batch(batch, self.catalogue)
            inventory = self.inventory.current(
                skus_of(lines) if lines is not None else {i.sku for o in batch for i in o.items})
            # checked and drawn here, before the next batch: the pools get the states
            stocks = stock_states(batch, inventory, ruleset.low_stock, lines)
            self.inventory.take(taken(batch, stocks, inventory, lines))
            recent = self.recent.snapshot(self.clock.now(), {o.buyer.id for o in batch})
            self.recent.add(batch)
            again = {o.key: reason for o in batch
                     if (reason := self._again.pop((o.key, o.modified_at), None))}
            # pickled once for both pools, and sent in the calls as bytes: no object store
            shared = for_pools(batch)
            anomalies, scores = await asyncio.gather(
                self.validators.submit("check", shared, inventory, recent, ref, lines, stocks),
                self.scorers.submit("score", shared, inventory, ref, lines, stocks),
            )
            decided = await decide_batch(batch, anomalies, scores, ruleset, self.ledger,
                                         lines=lines, again=again)
            if (shadow := self.shadow.active()) is not None:  # decides, acts on nothing
                shadow.observe(batch, anomalies, scores, decided.decisions, ruleset,
                               self.clock.now(), stocks)
            if decided.stored:
                self._wake_relay()
            if self._done_during_redrive is not None:
                self._done_during_redrive.update((o.key, o.modified_at) for o in batch)
            held = decided.held
            self.counts["decided"] += len(decided.decisions)
            self.counts["committed"] += decided.stored
            self.counts["held"] += held
            self.counts["batches"] += 1
            log.info("batch n=%d stored=%d held=%d rules=v%d %.1fms backlog=%d", len(batch),
                     decided.stored, held, ref[0],
                     1000 * (time.perf_counter() - began), self.backlog())
        except Exception:  # the batch loop goes on; the ledger re-drives these orders
            self.counts["errors"] += 1
            log.exception("batch of %d failed; the orders stay 'received' and are re-driven",
                          len(batch))
        finally:
            self._inflight_orders -= len(batch)
            for order in batch:
                self._pending_keys.discard((order.key, order.modified_at))
            self._inflight.release()

    async def redrive(self, older_than_s: float = 5.0, limit: int = 5000) -> int:
        """Submit order versions the ledger holds undecided for ``older_than_s``
        of business time; returns how many were not already queued or in flight."""
        async with self._redriving:
            # a batch committed while the ledger is read may be in the answer, stale
            self._done_during_redrive = set()
            try:
                orders = await self.ledger.undecided_orders(older_than_s, limit)
                fresh = await self.submit(orders) if orders else 0
            finally:
                self._done_during_redrive = None
        self.counts["redriven"] += fresh
        if fresh:
            log.warning("re-drove %d undecided orders from the ledger", fresh)
        return fresh

    async def _redrive_loop(self) -> None:
        after = self.redrive_after_s * self.clock.speedup
        while not self._stopping:
            await asyncio.sleep(self.redrive_every_s)
            if self._stopping:
                break
            try:
                await self.redrive(after)
            except Exception as exc:  # the ledger may be restarting; try next round
                log.warning("re-drive failed: %s", exc)
            await self._refresh_catalogue()  # when no batch comes to ask

    async def drain(self, timeout_s: float = 30.0) -> bool:
        """Finish queued and in-flight batches (clean shutdown)."""
        self._stopping = True
        self._arrived.set()
        deadline = time.monotonic() + timeout_s
        while (self._queue or self._tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not (self._queue or self._tasks)

    # -- shadow run (hub.app.shadow) --------------------------------------------------------
    def set_shadow(self, draft: int, version: int, text: str) -> Any:
        """Run draft ``draft`` beside the live rules from the next batch; since when."""
        since = self.shadow.start(draft, version, text, self.clock.now())
        log.info("shadow run of draft %d (rules v%d) started", draft, version)
        return since

    def clear_shadow(self) -> None:
        self.shadow.stop()

    def shadow_report(self, minutes: int) -> ShadowReport:
        return self.shadow.report(minutes, self.clock.now())

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "backlog": self.backlog(), "peak_backlog": self.peak_backlog,
                "rules_version": self.rules_ref[0],
                "catalogue_version": self.catalogue.version if self.catalogue else None,
                "gc": GcWatch.install().snapshot()}
