"""A puller under a lease (``hub.app.leases``): it pulls only while its hub holds the
shop, moves the cursor with the epoch, stops at the ledger's refusal once another hub
took the shop, and the new holder goes on from the cursor the last one left. The pull
log says who pulled with which epoch."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.actors.leasing import LeaseHandle, PullLog
from hub.actors.puller import ChannelPuller
from hub.app.leases import Lease, LeaseTerms
from hub.clock import ManualClock
from hub.config import ChannelConfig
from hub.connectors import Connections
from hub.ledger import LeaseLost, open_ledger
from hub.ledger.local import LocalLedger
from tests.fakes import FakeRouter
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving

TTL = 15.0
SHOP = "tmall/flagship"


class Hand:
    def __init__(self) -> None:
        self.t = 1_000.0

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def mono(self) -> float:
        return self.t


def _puller(url: str, ledger: LocalLedger, hub: str, hand: Hand, clock: ManualClock,
            log_path) -> ChannelPuller:
    config = ChannelConfig(channel="tmall", shop="flagship", base_url=url, overlap_s=60,
                           interval_s=30)
    lease = Lease(ledger, LeaseTerms(hub, TTL, frozenset({SHOP})), SHOP, wall=hand.wall,
                  monotonic=hand.mono)
    return ChannelPuller(config, ledger, FakeRouter(), clock, start_at=T0,
                         connections=Connections(), lease=lease,
                         pull_log=PullLog(hub, log_path))


def test_the_hub_that_lost_the_shop_stops_and_the_new_holder_goes_on(tmp_path) -> None:
    store = open_ledger(str(tmp_path / "ledger.sqlite3"))
    ledger = LocalLedger(store)
    clock = ManualClock(T0 + timedelta(minutes=10))
    hand_a, hand_b = Hand(), Hand()
    log_path = tmp_path / "pulls.jsonl"
    try:
        with serving(make_state("tmall", orders_for("tmall", range(1, 31)))) as server:
            a = _puller(server.url, ledger, "A", hand_a, clock, log_path)
            b = _puller(server.url, ledger, "B", hand_b, clock, log_path)

            async def story() -> tuple:
                await a.lease.tick()
                await b.lease.tick()
                assert a.lease.holding() == 1 and b.lease.holding() is None
                first = await a.pull_once()
                # A stalls (its clock stands still, it believes it holds the shop); B's
                # clock moves past A's lease and B takes the shop
                hand_b.t += TTL + 1
                clock.advance(30)
                await b.lease.tick()
                stale = await a.pull_once()
                clock.advance(30)
                taken = await b.pull_once()
                return first, stale, taken

            first, stale, taken = asyncio.run(story())
        assert first.error == "" and first.new == 30
        assert stale.error.startswith("LeaseLost") and "held by B" in stale.error
        assert a.lease.holding() is None  # A noticed
        assert taken.error == "" and taken.start == first.end - timedelta(seconds=60)
        assert store.get_cursor("tmall", "flagship") == taken.end
        lines = [json.loads(line) for line in log_path.read_text().splitlines()]
        assert [(p["hub"], p["epoch"], p["ok"]) for p in lines] == [
            ("A", 1, True), ("A", 1, False), ("B", 2, True)]
        assert all(p["shop"] == "flagship" and p["end"] >= p["start"] for p in lines)
    finally:
        store.close()


def test_a_puller_without_its_lease_does_not_pull(tmp_path) -> None:
    store = open_ledger(str(tmp_path / "ledger.sqlite3"))
    ledger = LocalLedger(store)
    hand = Hand()
    store.lease_acquire(SHOP, "other-hub", TTL, hand.wall())
    clock = ManualClock(T0 + timedelta(minutes=10))
    try:
        with serving(make_state("tmall", orders_for("tmall", range(1, 5)))) as server:
            puller = _puller(server.url, ledger, "A", hand, clock, tmp_path / "p.jsonl")

            async def run_briefly() -> None:
                task = asyncio.ensure_future(puller.run())
                await asyncio.sleep(0.5)
                puller.stop()
                await asyncio.wait_for(task, 10)

            asyncio.run(run_briefly())
        assert puller.totals["pulls"] == 0
        assert store.get_cursor("tmall", "flagship") is None
    finally:
        store.close()


@pytest.mark.ray
def test_lease_lost_crosses_the_ledger_actor_as_itself(ray_session, tmp_path) -> None:
    import ray

    from hub.ledger.service import LedgerService

    actor = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    port = LeaseHandle(actor)
    now = datetime.now(UTC)

    async def story() -> None:
        assert await port.lease_acquire(SHOP, "A", TTL, now) == 1
        assert await port.lease_acquire(SHOP, "B", TTL, now + timedelta(seconds=16)) == 2
        assert [r.holder for r in await port.leases()] == ["B"]
        with pytest.raises(LeaseLost):
            await actor.call.remote("set_cursor", "tmall", "flagship", now, 1)

    try:
        asyncio.run(story())
    finally:
        ray.kill(actor)
