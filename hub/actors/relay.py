"""OutboxRelay: delivers the ledger's outbox to the WMS, the ERP and DingTalk, and
brings the WMS's status back as stage events.

The WMS answers a dispatch per order (``hub.app.deadletters``): the taken ones are
delivered, a refused one is retried and at last dead-lettered (``dispatch_failed``, an
alert to the warehouse group). Follow-ups of a dispatch (intercepts, amendments) go
after the round's dispatches; the WMS's answers are recorded by ``hub.app.followup``
(stage events, alerts, retries of ``unknown``). Every failure of a batch is one ledger
call (``failed_many``).

Delivery is at least once: a row is claimed with a lease, marked delivered only
after the receiver answered, and retried with backoff when it failed; the
receivers dedupe by the row's idempotency key. Alerts are grouped: one message
per responsible group lists every held order claimed in that round.

Hubs sharing one ledger each run a relay: a claim takes rows no other relay holds
(``FOR UPDATE SKIP LOCKED`` and the claim's own lease), so they divide the outbox row by
row. The WMS status feed has one position, so one relay at a time reads it: the one whose
hub holds the feed's lease (``lease``), moving the position with the lease epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.actors.alerts import AlertPacer, compose
from hub.actors.handles import LedgerHandle
from hub.app.deadletters import (
    DISPATCH_TRIES,
    DispatchAnswers,
    dispatch_answers,
    record_dispatch,
    request_failed,
)
from hub.app.followup import record_answers
from hub.app.leases import Lease
from hub.app.ports import Connections, no_connections
from hub.app.records import LeaseLost
from hub.app.warehouse import record_status
from hub.app.wire import claimed
from hub.clock import Clock
from hub.domain.outbox import DINGTALK, ERP, WMS, WMS_AMEND, WMS_INTERCEPT
from hub.errors import OrderHubError
from hub.gcwatch import GcWatch

log = logging.getLogger("orderhub.relay")

# The WMS status feed's position is kept in the ledger's cursor table, as seconds.
WMS_FEED = ("wms", "status-feed")


@dataclass(frozen=True, slots=True)
class FollowUpHandle:
    """The ledger actor as ``hub.app.followup.FollowUpLedger``."""

    actor: Any

    async def record_stage(self, events: Sequence[Any], outbox: Sequence[Any]) -> int:
        return await self.actor.record_stage.remote(events, outbox)

    async def delivered(self, ids: Sequence[int], now: datetime) -> Any:
        return await self.actor.delivered.remote(ids, now)

    async def failed(self, message_id: int, error: str, now: datetime) -> None:
        await self.actor.failed.remote(message_id, error, now)

    async def failed_many(self, failures: Sequence[tuple[int, str]], now: datetime, *,
                          dead: Sequence[tuple[int, str]] = (), events: Sequence[Any] = (),
                          outbox: Sequence[Any] = ()) -> int:
        return await self.actor.failed_many.remote(failures, now, dead=dead, events=events,
                                                   outbox=outbox)


class OutboxRelay:
    def __init__(
        self,
        ledger: Any,
        clock: Clock | None = None,
        *,
        wms: Any = None,
        erp: Any = None,
        robot: Any = None,
        wms_url: str = "",
        erp_url: str = "",
        dingtalk: dict[str, Any] | None = None,
        per_minute: int = 20,
        lease_s: float = 30.0,
        batch: int = 1000,
        poll_s: float = 0.2,
        wms_poll_s: float = 1.0,
        idle_poll_s: float = 2.0,
        gc_threshold: tuple[int, ...] | None = None,
        connections: Connections | None = None,
        dispatch_tries: int = DISPATCH_TRIES,
        lease: Lease | None = None,
    ) -> None:
        self.ledger, self.clock = ledger, clock or Clock()
        self.stages = LedgerHandle(ledger)  # where the WMS's status is recorded
        self.followups = FollowUpHandle(ledger)  # where its answers to follow-ups are
        if connections is None and (wms_url or erp_url or (dingtalk or {}).get("url")):
            raise no_connections("the outbox relay")
        if connections is not None:
            wms = wms or connections.wms(wms_url)
            erp = erp or connections.erp(erp_url)
            robot = robot or connections.robot(dingtalk or {})
        self.wms, self.erp, self.robot = wms, erp, robot
        per_minute = (dingtalk or {}).get("per_minute", per_minute)
        self.pacer = AlertPacer(per_minute)
        self.limit = self.pacer.limit
        self.lease_s, self.batch, self.poll_s, self.wms_poll_s = lease_s, batch, poll_s, wms_poll_s
        self.dispatch_tries = dispatch_tries
        self.idle_poll_s = max(idle_poll_s, poll_s)
        self._wake: asyncio.Event | None = None
        self.wms_seq: int | None = None  # read from the ledger at the first poll
        self.lease = lease  # of the WMS status feed, when hubs share the ledger
        self._epoch: int | None = None  # the lease epoch ``wms_seq`` was read under
        self._stopping = False
        self.counts = {"delivered": 0, "failed": 0, "alerts_sent": 0, "alert_orders": 0,
                       "status_events": 0, "alerts_waiting": 0, "intercepted": 0,
                       "amended": 0, "intercept_too_late": 0, "follow_up_retries": 0,
                       "refused": 0, "dead_lettered": 0}
        GcWatch.install(actor=True, threshold=gc_threshold)

    async def _failed(self, rows: list, error: str) -> None:
        if rows:
            await self.followups.failed_many([(r.id, error) for r in rows], self.clock.now())
            self.counts["failed"] += len(rows)

    async def _delivered(self, rows: list) -> None:
        if rows:
            await self.ledger.delivered.remote([r.id for r in rows], self.clock.now())
            self.counts["delivered"] += len(rows)

    async def _send(self, rows: list, call: Any) -> None:
        try:
            await call([{**r.payload, "key": r.key} for r in rows])
        except OrderHubError as exc:  # the receiver refused the rows or did not answer
            log.warning("delivery of %d rows failed: %s", len(rows), exc)
            await self._failed(rows, f"{type(exc).__name__}: {exc}"[:500])
        else:
            await self._delivered(rows)

    async def _dispatch(self, rows: list) -> None:
        """One dispatch request; the WMS's answer per order decides each row's fate."""
        now = self.clock.now()
        done: DispatchAnswers
        try:
            results = await self.wms.dispatch_each([{**r.payload, "key": r.key} for r in rows])
        except OrderHubError as exc:  # refused as a whole (HTTP 4xx) or not answered
            refused = getattr(exc, "retryable", True) is False  # a BackOfficeRejected
            log.warning("dispatch of %d rows failed: %s", len(rows), exc)
            done = request_failed(rows, f"{type(exc).__name__}: {exc}", now, refused=refused,
                                  tries=self.dispatch_tries)
        else:
            done = dispatch_answers(rows, results, now, self.dispatch_tries)
        await record_dispatch(done, self.followups, now)
        self.counts["delivered"] += len(done.delivered)
        self.counts["failed"] += len(done.retry) + len(done.dead)
        self.counts["refused"] += done.refused
        self.counts["dead_lettered"] += len(done.dead)
        if done.dead:
            log.warning("%d dispatches dead-lettered after %d refusals", len(done.dead),
                        self.dispatch_tries)

    async def _follow_up(self, rows: list, call: Any) -> None:
        try:
            results = await call([{**r.payload, "key": r.key} for r in rows])
        except OrderHubError as exc:  # the WMS refused the request or did not answer
            log.warning("%d WMS follow-ups failed: %s", len(rows), exc)
            await self._failed(rows, f"{type(exc).__name__}: {exc}"[:500])
            return
        done = await record_answers(rows, results, self.followups, self.clock.now())
        for outcome in ("intercepted", "amended", "intercept_too_late"):
            self.counts[outcome] += done.outcomes[outcome]
        self.counts["follow_up_retries"] += len(done.retry)
        self.counts["delivered"] += len(done.delivered)

    async def _alert(self, rows: list) -> None:
        """Alert rows wait by group; the pacer says when a group's message may go (every
        round, with or without new rows)."""
        if self.robot is None:
            await self._delivered(rows)  # no robot configured: recorded, not sent
            return
        self.pacer.add(rows)
        while (message := self.pacer.next_message()) is not None:
            group, members = message
            title, text = compose(group, [r.payload for r in members])
            try:
                await self.robot.send_markdown(title, text)
            except OrderHubError as exc:  # the robot refused the message or did not answer
                log.warning("DingTalk alert for %s failed: %s", group, exc)
                await self._failed(members, f"{type(exc).__name__}: {exc}"[:500])
            else:
                self.counts["alerts_sent"] += 1
                self.counts["alert_orders"] += len(members)
                await self._delivered(members)
        self.counts["alerts_waiting"] = self.pacer.pending()

    async def deliver_once(self) -> int:
        # the rows as the writer read them; their payloads are parsed here, not there
        rows = claimed(await self.ledger.claim_wire.remote(self.batch, self.lease_s,
                                                           self.clock.now()))
        by_dest: dict[str, list] = defaultdict(list)
        for row in rows:
            by_dest[row.destination].append(row)
        if by_dest.get(WMS):
            if self.wms is None:
                await self._failed(by_dest[WMS], "no WMS configured")
            else:
                await self._dispatch(by_dest[WMS])
        for dest, call in ((WMS_INTERCEPT, "intercept"), (WMS_AMEND, "amend")):
            if by_dest.get(dest):
                if self.wms is None:
                    await self._failed(by_dest[dest], "no WMS configured")
                else:
                    await self._follow_up(by_dest[dest], getattr(self.wms, call))
        if by_dest.get(ERP) and self.erp is not None:
            await self._send(by_dest[ERP], self.erp.sync_orders)
        await self._alert(by_dest.get(DINGTALK, []))  # waiting alerts may go now
        return len(rows)

    async def poll_wms_once(self) -> int:
        """WMS status (picked, packed, shipped + tracking number) -> stage events."""
        if self.wms is None:
            return 0
        epoch = self.lease.holding() if self.lease is not None else None
        if epoch != self._epoch:  # the feed (re)taken: another hub may have moved it since
            self.wms_seq, self._epoch = None, epoch
        if self.wms_seq is None:  # after a restart, go on where the last run stopped
            saved = await self.ledger.get_cursor.remote(*WMS_FEED)
            self.wms_seq = round(saved.timestamp()) if saved is not None else 0
        seq, events = await self.wms.status_since(self.wms_seq)
        self.counts["status_events"] += await record_status(events, self.stages,
                                                            self.clock.now())
        if seq != self.wms_seq:
            try:
                await self.ledger.call.remote("set_cursor", *WMS_FEED,
                                              datetime.fromtimestamp(seq, UTC), epoch)
            except LeaseLost as exc:  # another hub reads the feed now
                if self.lease is not None:
                    self.lease.lost(str(exc))
                self.wms_seq = None
                return len(events)
        self.wms_seq = seq
        return len(events)

    async def run(self) -> None:
        """Claim and deliver every ``poll_s`` while rows come; after an empty round the
        wait doubles up to ``idle_poll_s`` (and the WMS's status is asked every
        ``wms_poll_s`` whatever it is). ``wake()`` (the router, after a commit) ends a
        wait at once, so an idle relay costs little and reacts as fast as a busy one."""
        last_poll = 0.0
        wait_s = self.poll_s
        self._wake = asyncio.Event()
        while not self._stopping:
            self._wake.clear()
            try:
                delivered = await self.deliver_once()
                feed = self.lease is None or await self.lease.tick() is not None
                if feed and time.monotonic() - last_poll >= self.wms_poll_s:
                    last_poll = time.monotonic()
                    await self.poll_wms_once()
            except Exception:  # the actor's loop outlives any one round (ledger restarting)
                log.exception("relay round failed; rows stay in the outbox")
                delivered = 0
            if delivered >= self.batch:
                continue
            # idle_poll_s of wall time, but never longer than that much business time: a
            # sped-up clock (a rehearsal) keeps the busy cadence
            cap = max(self.poll_s, min(self.idle_poll_s,
                                       self.clock.wall_seconds(self.idle_poll_s)))
            wait_s = self.poll_s if delivered else min(2 * wait_s, cap)
            next_poll = last_poll + self.wms_poll_s - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(min(wait_s, next_poll),
                                                              self.poll_s))
        if self.lease is not None:
            await self.lease.release()

    def wake(self) -> None:
        """New outbox rows are committed: claim them now, not after an idle wait."""
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "max_alerts_per_minute": self.limit.max_in_minute,
                "gc": GcWatch.install().snapshot()}
