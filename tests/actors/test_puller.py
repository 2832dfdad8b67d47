"""A ChannelPuller actor pulling a real emulated marketplace over HTTP."""

import time
from datetime import timedelta

import pytest

from hub.actors.handles import LedgerHandle, RouterHandle
from hub.actors.pool import BatchPool
from hub.actors.puller import ChannelPuller
from hub.actors.router import Router
from hub.actors.workers import Scorer, Validator
from hub.clock import ManualClock
from hub.config import ChannelConfig, PoolConfig
from hub.connectors import Connections
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from tests.sim.marketplace_helpers import T0, make_state, orders_for, serving

pytestmark = pytest.mark.ray


def _ledger_and_router(ray, tmp_path):
    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    rules = default_ruleset()
    router = ray.remote(Router).options(max_concurrency=16).remote(
        LedgerHandle(ledger), BatchPool(ray.remote(Validator), 1),
        BatchPool(ray.remote(Scorer), 1), (rules.version, rules.text),
        PoolConfig(batch_max=500, batch_ms=10))
    return ledger, router


def _puller(ray, config, ledger, router, now):
    """A puller actor over the ledger and router actors, as the runtime wires it."""
    return ray.remote(ChannelPuller).remote(config, LedgerHandle(ledger), RouterHandle(router),
                                            ManualClock(now), start_at=T0,
                                            connections=Connections())


@pytest.mark.parametrize("channel", ["tmall", "douyin"])
def test_puller_pulls_a_window_decides_it_and_moves_the_cursor(ray_session, tmp_path,
                                                                channel) -> None:
    ray = ray_session
    orders = orders_for(channel, range(1, 231))
    state = make_state(channel, orders)
    ledger, router = _ledger_and_router(ray, tmp_path)
    with serving(state) as server:
        config = ChannelConfig(channel=channel, shop="flagship", base_url=server.url,
                               page_size=50, overlap_s=60)
        puller = _puller(ray, config, ledger, router, T0 + timedelta(minutes=10))
        report = ray.get(puller.pull_once.remote())
        assert report.error == ""
        assert report.new == len(orders)
        assert report.pages == 6  # 5 pages, and the first read again at the end
        cursor = ray.get(ledger.get_cursor.remote(channel, "flagship"))
        assert cursor == report.end
        again = ray.get(puller.pull_once.remote())  # overlapping re-pull: nothing new
        assert (again.error, again.new) == ("", 0)
    deadline = time.monotonic() + 30
    while ray.get(router.stats.remote())["decided"] < len(orders):
        assert time.monotonic() < deadline, ray.get(router.stats.remote())
        time.sleep(0.05)
    counts = ray.get(ledger.call.remote("counts"))
    assert sum(counts["stages"].values()) == len(orders)


def test_an_order_too_large_for_the_ledger_is_quarantined_and_the_window_goes_on(
        ray_session, tmp_path) -> None:
    ray = ray_session
    orders = orders_for("tmall", range(1, 41))
    receiver = orders[7].receiver.model_copy(update={"detail": "长" * 400_000})  # > 1 MiB
    giant = orders[7].model_copy(update={"receiver": receiver})
    orders[7] = giant
    state = make_state("tmall", orders)
    ledger, router = _ledger_and_router(ray, tmp_path)
    with serving(state) as server:
        config = ChannelConfig(channel="tmall", shop="flagship", base_url=server.url,
                               page_size=50, overlap_s=60)
        puller = _puller(ray, config, ledger, router, T0 + timedelta(minutes=10))
        report = ray.get(puller.pull_once.remote())
    assert report.error == ""
    assert report.new == len(orders) - 1
    assert ray.get(ledger.get_cursor.remote("tmall", "flagship")) == report.end
    [kept] = ray.get(ledger.call.remote("quarantine_list"))
    assert giant.order_id in kept.error and "over the ledger's limit" in kept.error
    assert len(kept.raw) <= 64 * 1024
    assert (report.quarantined, report.known) == (1, 0)
    counts = ray.get(ledger.call.remote("counts"))
    assert sum(counts["stages"].values()) == len(orders) - 1
    assert ray.get(ledger.get_order.remote(giant.key)) is None


class _Submitted:
    """Stands in for the router: keeps what the puller submits."""

    def __init__(self) -> None:
        self.orders: list = []

    def submit(self, orders: list) -> int:
        self.orders.extend(orders)
        return len(orders)

    def ids(self) -> list[str]:
        return [o.order_id for o in self.orders]


@pytest.mark.parametrize("lookahead_s", [0.0, 10.0])
def test_a_pull_asks_past_now_but_the_cursor_stops_at_now_less_the_lag(
        ray_session, tmp_path, lookahead_s) -> None:
    """Versions made after the hub asked (here: ones the marketplace already shows and
    the puller's clock has not reached) come in this pull when they fall within the
    look-ahead; the cursor still stops at now less the safety lag, so the next window
    reads them again and nothing is skipped."""
    ray = ray_session
    orders = orders_for("jd", range(1, 41))  # modified at T0 + 26 s .. T0 + 65 s
    state = make_state("jd", orders)
    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    router = ray.remote(_Submitted).remote()
    now = T0 + timedelta(seconds=45)
    with serving(state) as server:
        config = ChannelConfig(channel="jd", shop="flagship", base_url=server.url,
                               safety_lag_s=2, lookahead_s=lookahead_s, overlap_s=60)
        puller = _puller(ray, config, ledger, router, now)
        report = ray.get(puller.pull_once.remote())
    assert report.error == ""
    assert report.end == now - timedelta(seconds=2)
    assert ray.get(ledger.get_cursor.remote("jd", "flagship")) == report.end
    asked_up_to = now + timedelta(seconds=lookahead_s)
    expected = [o.order_id for o in orders if o.modified_at < _ceil(asked_up_to)]
    assert sorted(ray.get(router.ids.remote())) == expected
    timeline = ray.get(ledger.call.remote("get_order", ("jd", "flagship", expected[-1])))
    [received] = [e for e in timeline.timeline if e.stage == "received"]
    assert received.at >= orders[len(expected) - 1].modified_at  # never before its version


def _ceil(moment):
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)
