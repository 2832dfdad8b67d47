"""The puller reads its cursor from the ledger once, then keeps the one it moved
(it is that cursor's only writer), so a pull waits on no ledger call before it asks."""

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError

from hub.actors.puller import ChannelPuller
from hub.clock import ManualClock
from hub.config import ChannelConfig
from hub.connectors import Connections
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from tests.fakes import FakeRouter
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving


class CountingLedger(LocalLedger):
    """A real SQLite ledger as the puller's ports, counting what the puller asks."""

    def __init__(self, path: str) -> None:
        super().__init__(open_ledger(path))
        self.cursor_reads = 0
        self.sent: list[list[str]] = []  # order ids of each ingest call

    async def ingest(self, orders, cursor=None, at=None):
        self.sent.append([o.order_id for o in orders])
        return await super().ingest(orders, cursor, at)

    async def get_cursor(self, channel: str, shop: str):
        self.cursor_reads += 1
        return await super().get_cursor(channel, shop)

    def cursor(self, channel: str, shop: str):
        return self.ledger.get_cursor(channel, shop)

    def close(self) -> None:
        self.ledger.close()


async def _two_pulls(puller: ChannelPuller, clock: ManualClock) -> tuple:
    first = await puller.pull_once()
    clock.advance(30)
    return first, await puller.pull_once()


def test_the_cursor_is_read_once_and_each_window_starts_where_the_last_ended(tmp_path) -> None:
    orders = orders_for("tmall", range(1, 31))
    ledger, router = CountingLedger(str(tmp_path / "ledger.sqlite3")), FakeRouter()
    clock = ManualClock(T0 + timedelta(minutes=10))
    try:
        with serving(make_state("tmall", orders)) as server:
            config = ChannelConfig(channel="tmall", shop="flagship", base_url=server.url,
                                   overlap_s=60, interval_s=30)
            puller = ChannelPuller(config, ledger, router, clock, start_at=T0,
                                    connections=Connections())
            first, second = asyncio.run(_two_pulls(puller, clock))
        assert (first.error, second.error) == ("", "")
        assert ledger.cursor_reads == 1
        assert second.start == first.end - timedelta(seconds=60)
        assert ledger.cursor("tmall", "flagship") == second.end
        assert sorted(o.order_id for o in router.orders) == sorted(o.order_id for o in orders)
    finally:
        ledger.close()


def test_a_failed_pull_leaves_the_window_to_the_next_one(tmp_path) -> None:
    ledger, router = CountingLedger(str(tmp_path / "ledger.sqlite3")), FakeRouter()
    clock = ManualClock(T0 + timedelta(minutes=10))
    try:
        config = ChannelConfig(channel="tmall", shop="flagship", base_url="http://127.0.0.1:9",
                               overlap_s=60, interval_s=30, max_retries=0)
        puller = ChannelPuller(config, ledger, router, clock, start_at=T0,
                                    connections=Connections())
        failed, again = asyncio.run(_two_pulls(puller, clock))
        assert failed.error and again.error
        assert ledger.cursor("tmall", "flagship") is None
        assert again.start == failed.start
    finally:
        ledger.close()


def test_orders_read_again_in_the_overlap_are_not_sent_to_the_ledger_again(tmp_path) -> None:
    state = make_state("tmall", orders_for("tmall", range(1, 31)))
    ledger, router = CountingLedger(str(tmp_path / "ledger.sqlite3")), FakeRouter()
    clock = ManualClock(T0 + timedelta(minutes=10))
    try:
        with serving(state) as server:
            config = ChannelConfig(channel="tmall", shop="flagship", base_url=server.url,
                                   overlap_s=3600, interval_s=30)
            puller = ChannelPuller(config, ledger, router, clock, start_at=T0,
                                    connections=Connections())
            later = orders_for("tmall", range(31, 36))  # landed late, inside the overlap

            async def pulls() -> tuple:
                first = await puller.pull_once()
                state.add_orders(later)
                clock.advance(30)
                return first, await puller.pull_once()

            first, second = asyncio.run(pulls())
        assert (first.error, second.error) == ("", "")
        assert first.fetched == 30 and second.fetched == 35
        assert second.known == 30 and second.new == 5
        assert puller.client.stats["known_not_converted"] == 30  # not even made orders
        assert [sorted(ids) for ids in ledger.sent] == [
            [f"T{n:05d}" for n in range(1, 31)], [o.order_id for o in later]]
        assert len(router.orders) == 35
        assert ledger.cursor("tmall", "flagship") == second.end
        assert puller.stats()["known"] == 30
    finally:
        ledger.close()


def test_a_windows_pages_are_gathered_up_to_ingest_batch_orders_a_ledger_call(
        tmp_path) -> None:
    orders = orders_for("tmall", range(1, 31))
    sizes = {}
    for batch in (15, 1000):
        ledger, router = CountingLedger(str(tmp_path / f"ledger-{batch}.sqlite3")), FakeRouter()
        clock = ManualClock(T0 + timedelta(minutes=10))
        try:
            with serving(make_state("tmall", orders)) as server:
                config = ChannelConfig(channel="tmall", shop="flagship", base_url=server.url,
                                       page_size=10, ingest_batch=batch)
                puller = ChannelPuller(config, ledger, router, clock, start_at=T0,
                                    connections=Connections())
                report = asyncio.run(puller.pull_once())
            assert report.error == "" and report.pages >= 3 and report.new == 30
            sizes[batch] = [len(ids) for ids in ledger.sent]
            assert sorted(o.order_id for o in router.orders) == sorted(o.order_id
                                                                      for o in orders)
            assert ledger.cursor("tmall", "flagship") == report.end
        finally:
            ledger.close()
    assert sizes == {15: [20, 10], 1000: [30]}


def test_a_catch_up_pull_sends_only_what_the_pushes_did_not_store(tmp_path) -> None:
    orders = orders_for("tmall", range(1, 31))
    ledger, router = CountingLedger(str(tmp_path / "ledger.sqlite3")), FakeRouter()
    pushed = orders[:25]
    ledger.ledger.ingest(pushed)  # as the push endpoint stored them
    clock = ManualClock(T0 + timedelta(minutes=10))
    try:
        with serving(make_state("tmall", orders)) as server:
            config = ChannelConfig(channel="tmall", shop="flagship", base_url=server.url,
                                   overlap_s=3600, interval_s=30, push=True)
            puller = ChannelPuller(config, ledger, router, clock, start_at=T0,
                                    connections=Connections())
            first, second = asyncio.run(_two_pulls(puller, clock))
        assert (first.error, second.error) == ("", "")
        assert (first.fetched, first.known, first.new) == (30, 25, 5)
        assert sorted(ledger.sent[0]) == [o.order_id for o in orders[25:]]
        assert sorted(o.order_id for o in router.orders) == [o.order_id for o in orders[25:]]
        assert (second.known, second.new) == (30, 0)  # all acknowledged now: no look-up
        assert ledger.sent[1:] == [[]]  # the closing call moves the cursor only
        assert ledger.cursor("tmall", "flagship") == second.end
    finally:
        ledger.close()


def test_an_ingest_batch_below_one_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="ingest_batch"):
        ChannelConfig(channel="tmall", shop="flagship", base_url="http://127.0.0.1:9",
                      ingest_batch=0)
