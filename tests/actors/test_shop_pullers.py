"""ShopPullers: every shop's puller in one actor process."""

import asyncio
import time
from contextlib import ExitStack
from datetime import timedelta

import pytest

from hub.actors.handles import LedgerHandle, RouterHandle
from hub.actors.pullers import ShopPullers
from hub.clock import ManualClock
from hub.config import ChannelConfig
from hub.connectors import Connections
from tests.actors.routers import start_router
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving


@pytest.mark.ray
def test_one_actor_pulls_every_shop_and_stops(ray_session, tmp_path) -> None:
    ray = ray_session
    ledger, router = start_router(ray, tmp_path, batch_max=500)
    shops = {"tmall": orders_for("tmall", range(1, 121)),
             "douyin": orders_for("douyin", range(1, 81))}
    with ExitStack() as stack:
        servers = {c: stack.enter_context(serving(make_state(c, o))) for c, o in shops.items()}
        channels = [ChannelConfig(channel=c, shop="flagship", base_url=s.url, page_size=50,
                                  overlap_s=60, interval_s=3600) for c, s in servers.items()]
        pullers = ray.remote(ShopPullers).options(max_concurrency=8).remote(
            channels, LedgerHandle(ledger), RouterHandle(router),
            ManualClock(T0 + timedelta(minutes=10)), start_at=T0, connections=Connections())
        loop = pullers.run.remote()
        deadline = time.monotonic() + 60
        while ray.get(router.stats.remote())["decided"] < 200:
            assert time.monotonic() < deadline, ray.get(pullers.stats.remote())
            time.sleep(0.05)
        stats = ray.get(pullers.stats.remote())
        ray.get(pullers.stop.remote())
        ray.get(loop, timeout=30)  # every loop ended
    assert [(s["channel"], s["new"], s["errors"]) for s in stats] == [
        ("tmall", 120, 0), ("douyin", 80, 0)]
    assert [s["channel"] for s in ray.get(pullers.pull_schedule.remote())] == ["tmall",
                                                                              "douyin"]
    for channel in shops:
        assert ray.get(ledger.get_cursor.remote(channel, "flagship")) is not None


class _Loop:
    """A puller's loop: fails once when told to, else runs until stopped."""

    def __init__(self, fail: bool) -> None:
        self.fail, self.started, self.stopping = fail, 0, asyncio.Event()

    async def run(self) -> None:
        self.started += 1
        if self.fail:
            self.fail = False
            raise RuntimeError("marketplace client broke")
        await self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()


def test_a_failed_loop_is_started_again_alone() -> None:
    pullers = ShopPullers.__new__(ShopPullers)
    pullers.pullers, pullers._loops = [_Loop(fail=False), _Loop(fail=True)], {}

    async def scenario() -> None:
        await asyncio.wait_for(pullers.run(), 5)  # returns: the second loop failed
        steady = pullers._loops[0]
        assert not steady.done() and pullers._loops[1].done()
        again = asyncio.create_task(pullers.run())
        await asyncio.sleep(0.05)
        assert pullers._loops[0] is steady  # the running loop was not started twice
        assert [p.started for p in pullers.pullers] == [1, 2]
        pullers.stop()
        await asyncio.wait_for(again, 5)

    asyncio.run(scenario())


def test_one_lease_per_channel_or_none() -> None:
    channel = ChannelConfig(channel="tmall", shop="s", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="2 leases for 1 channels"):
        ShopPullers([channel], None, None, leases=[None, None], connections=Connections())
