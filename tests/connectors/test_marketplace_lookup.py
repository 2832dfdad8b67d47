"""The marketplaces' by-id status, as the reconciler asks it: each client against its
emulator over HTTP on loopback (Tmall ``taobao.trade.fullinfo.get``, JD
``jingdong.pop.order.get``, Douyin ``order.orderDetail``): the current version's status,
unknown orders left out, a spent quota ending the round with what was answered."""

from __future__ import annotations

import asyncio

import pytest

from tests.sim.marketplace_helpers import CHANNELS, client, make_state, orders_for, serving


def statuses(channel: str, url: str, ids: list[str], **kwargs) -> tuple[dict, dict]:
    async def ask() -> tuple[dict, dict]:
        c = client(channel, url, **kwargs)
        try:
            return await c.order_statuses(ids), dict(c.stats)
        finally:
            await c.aclose()

    return asyncio.run(ask())


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_current_status_of_each_order_by_id(channel: str) -> None:
    paid = orders_for(channel, [1, 2])
    cancelled = orders_for(channel, [3], status="cancelled")
    shipped = orders_for(channel, [4], status="shipped")
    state = make_state(channel, paid + cancelled + shipped)
    with serving(state) as server:
        got, stats = statuses(channel, server.url,
                              [o.order_id for o in paid + cancelled + shipped] + ["99999"])
    assert got == {paid[0].order_id: "paid", paid[1].order_id: "paid",
                   cancelled[0].order_id: "cancelled", shipped[0].order_id: "shipped"}
    assert stats["lookups"] == 5
    assert state.stats["lookups"] == 5  # one by-id call per order


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_later_version_is_what_the_marketplace_answers(channel: str) -> None:
    [first] = orders_for(channel, [5])
    later = first.model_copy(update={"status": "cancelled",
                                     "modified_at": first.modified_at.replace(second=59)})
    state = make_state(channel, [first])
    state.add_orders([later])
    with serving(state) as server:
        got, _ = statuses(channel, server.url, [first.order_id])
    assert got == {first.order_id: "cancelled"}


def test_a_spent_quota_ends_the_round_with_what_was_answered() -> None:
    orders = orders_for("tmall", range(10, 30))
    state = make_state("tmall", orders, rate_limit_per_s=2.0)  # the shop's quota
    with serving(state) as server:
        got, stats = statuses("tmall", server.url, [o.order_id for o in orders])
    assert 1 <= len(got) < len(orders) and stats["lookup_stopped"] == 1
    assert set(got.values()) == {"paid"}
    assert state.stats["lookups"] < len(orders)  # the rest wait for the next round
