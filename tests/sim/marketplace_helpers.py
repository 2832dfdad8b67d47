"""Shared by the marketplace emulator tests: orders per channel, a served emulator,
and a client whose retries do not really sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx

from hub.clock import ManualClock
from hub.connectors.marketplace import CLIENTS, MarketplaceClient, RetryPolicy
from hub.domain.adapters.common import Page
from hub.domain.order import SHANGHAI, Order
from sim.emulators import douyin, jd, tmall
from sim.emulators.market_http import MarketplaceServer
from sim.emulators.marketplace import MarketplaceState
from tests.factories import order

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
CHANNELS = ("tmall", "jd", "douyin")
APPS = {"tmall": tmall.create_app, "jd": jd.create_app, "douyin": douyin.create_app}
PREFIX = {"tmall": "T", "jd": "J", "douyin": "D"}
# plain-HTTP loopback: skipping certificate loading saves ~60 ms per client made
HTTP = httpx.Client(verify=False)


def orders_for(channel: str, numbers: range | list[int], **changes: Any) -> list[Order]:
    """Orders of ``channel``; order n is modified at T0 + 25 + n seconds."""
    return [order(n, channel=channel, order_id=f"{PREFIX[channel]}{n:05d}", **changes)
            for n in numbers]


def make_state(channel: str, orders: list[Order] | None = None, *,
               now: datetime = T0 + timedelta(minutes=10), events: Any = (),
               **kwargs: Any) -> MarketplaceState:
    state = MarketplaceState(events, ManualClock(now), channel=channel, origin=T0, **kwargs)
    if orders:
        state.add_orders(orders)
    return state


@contextmanager
def serving(state: MarketplaceState, **app_kwargs: Any) -> Iterator[MarketplaceServer]:
    app = APPS[state.channel](state, **app_kwargs)
    with MarketplaceServer(app, state) as server:
        yield server


class SleepLog:
    """An injected sleep: records each delay, yields to the loop, never waits."""

    def __init__(self, clock: ManualClock | None = None, wall_s: float = 0.0) -> None:
        self.delays: list[float] = []
        self.clock, self.wall_s = clock, wall_s

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        await asyncio.sleep(self.wall_s)


def client(channel: str, url: str, *, secret: str = "demo-secret", token: str = "demo-token",
           sleep: Any = None, **kwargs: Any) -> MarketplaceClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=6, base_s=0.01))
    return CLIENTS[channel](url, "demo-key", secret, token, shop="flagship",
                            sleep=sleep or SleepLog(), seed=1, **kwargs)


async def pull_async(c: MarketplaceClient, start: datetime, end: datetime) -> list[Page]:
    try:
        return [page async for page in c.fetch_window(start, end)]
    finally:
        await c.aclose()


def pull(c: MarketplaceClient, start: datetime = T0,
         end: datetime = T0 + timedelta(minutes=10)) -> list[Page]:
    return asyncio.run(pull_async(c, start, end))


def ids(pages: list[Page]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]
