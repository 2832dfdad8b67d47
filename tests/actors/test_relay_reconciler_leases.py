"""The relay and the reconciler when hubs share the ledger.

The WMS status feed has one position, so one relay at a time reads it: the one whose hub
holds the feed's lease, moving the position with that epoch. A relay whose lease was
taken cannot move the position; the new holder goes on from where the last one stopped.
The reconciler asks the marketplaces and the WMS only about the shops its hub holds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hub.actors.relay import WMS_FEED, OutboxRelay
from hub.app.leases import Lease, LeaseTerms
from hub.app.records import cursor_lease
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger

TTL = 15.0


class _Method:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    async def _call(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)


class LedgerActor:
    """A ledger in this process, called as the ledger actor is (``x.method.remote``)."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self.ledger = ledger
        self.get_cursor = _Method(ledger.get_cursor)
        self.record_stage = _Method(ledger.record_stage)
        self.call = _Method(lambda name, *a, **k: getattr(ledger, name)(*a, **k))


class Feed:
    """A WMS whose status feed moves on by 10 at every read; it remembers who asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def client(self, who: str) -> Any:
        feed = self

        class Client:
            async def status_since(self, seq: int) -> tuple[int, list]:
                feed.asked.append((who, seq))
                return seq + 10, []

        return Client()


class Hand:
    def __init__(self) -> None:
        self.t = 5_000.0

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def mono(self) -> float:
        return self.t


def _relay(ledger: MemoryLedger, feed: Feed, hub: str, hand: Hand) -> OutboxRelay:
    lease = Lease(LocalLedger(ledger), LeaseTerms(hub, TTL), cursor_lease(*WMS_FEED),
                  wall=hand.wall, monotonic=hand.mono)
    return OutboxRelay(LedgerActor(ledger), wms=feed.client(hub), lease=lease)


def test_one_relay_reads_the_feed_and_a_stale_one_cannot_move_it() -> None:
    ledger, feed = MemoryLedger(), Feed()
    hand_a, hand_b = Hand(), Hand()
    a, b = _relay(ledger, feed, "A", hand_a), _relay(ledger, feed, "B", hand_b)

    async def story() -> None:
        assert await a.lease.tick() == 1
        assert await b.lease.tick() is None  # first come: A reads the feed
        await a.poll_wms_once()
        await a.poll_wms_once()
        hand_b.t += TTL + 1  # A stalls past its lease; B takes the feed
        assert await b.lease.tick() == 2
        await a.poll_wms_once()  # A still believes it holds it: refused
        assert a.lease.holding() is None
        await b.poll_wms_once()

    asyncio.run(story())
    assert feed.asked == [("A", 0), ("A", 10), ("A", 20), ("B", 20)]
    assert ledger.get_cursor(*WMS_FEED) == datetime.fromtimestamp(30, UTC)
    ledger.close()


def test_a_reconciler_asks_only_about_the_shops_its_hub_holds(tmp_path) -> None:
    from hub.actors.reconciler import Reconciler
    from hub.ledger.service import LedgerService
    from tests.actors.test_relay_followups import Local
    from tests.factories import order

    service = LedgerService(str(tmp_path / "ledger.sqlite3"))
    ours = [order(n, channel="tmall", shop="flagship") for n in range(1, 4)]
    theirs = [order(n, channel="jd", shop="outlet", order_id=f"J{n}") for n in range(1, 4)]
    service.ledger.ingest(ours + theirs)
    now = datetime.now(UTC)
    service.ledger.lease_acquire("tmall/flagship", "A", TTL, now)
    service.ledger.lease_acquire("jd/outlet", "B", TTL, now)
    asked: dict[str, list] = {}

    class Market:
        def __init__(self, shop: str) -> None:
            self.shop = shop

        async def order_statuses(self, ids):
            asked.setdefault(self.shop, []).extend(ids)
            return {}

    class Wms:
        async def status_of(self, keys):
            asked.setdefault("wms", []).extend(tuple(k) for k in keys)
            return {}

    markets = {("tmall", "flagship"): Market("tmall"), ("jd", "outlet"): Market("jd")}
    hub_a = Reconciler(Local(service), Wms(), markets=markets, leases=LocalLedger(
        service.ledger), hub_id="A", shops=frozenset({"tmall/flagship", "jd/outlet"}))
    try:
        asyncio.run(hub_a.reconcile_once())
        assert sorted(asked) == ["tmall", "wms"]
        assert sorted(asked["tmall"]) == sorted(o.order_id for o in ours)
        assert {k[0] for k in asked["wms"]} == {"tmall"}
        asked.clear()
        alone = Reconciler(Local(service), Wms(), markets=markets)  # no leases: every shop
        asyncio.run(alone.reconcile_once())
        assert sorted(asked) == ["jd", "tmall", "wms"]
    finally:
        service.close()
