"""Leases between hubs (``hub.app.leases``) over a real in-memory ledger, on a hand-driven
clock: taking, renewing, fair share when hubs join, taking over a dead hub's shops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hub.app.leases import Lease, LeaseTerms, fair_share, held_names
from hub.ledger import Cursor, LeaseLost
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger

SHOPS = ("tmall/a", "jd/b", "douyin/c")
TTL = 15.0


class Time:
    """Wall and monotonic time moved by hand together."""

    def __init__(self) -> None:
        self.t = 1000.0

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def mono(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


def _hub(ledger: LocalLedger, hub_id: str, time_: Time,
         shops: tuple[str, ...] = SHOPS) -> dict[str, Lease]:
    terms = LeaseTerms(hub_id, TTL, frozenset(SHOPS))
    return {s: Lease(ledger, terms, s, wall=time_.wall, monotonic=time_.mono) for s in shops}


def _tick(*hubs: dict[str, Lease]) -> None:
    async def all_() -> None:
        for hub in hubs:
            for lease in hub.values():
                await lease.tick()
    asyncio.run(all_())


def _held(hub: dict[str, Lease]) -> set[str]:
    return {name for name, lease in hub.items() if lease.holding() is not None}


def _run(time_: Time, seconds: float, *hubs: dict[str, Lease], step: float = 1.0) -> None:
    for _ in range(int(seconds / step)):
        time_.advance(step)
        _tick(*hubs)


def test_fair_share_divides_rounding_up() -> None:
    assert [fair_share(3, n) for n in (0, 1, 2, 3, 4)] == [3, 3, 2, 1, 1]
    assert fair_share(10, 3) == 4


def test_one_hub_takes_every_shop_and_renews_them() -> None:
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    a = _hub(ledger, "A", time_)
    _tick(a)
    assert _held(a) == set(SHOPS)
    epochs = {n: lease.epoch for n, lease in a.items()}
    _run(time_, 3 * TTL, a)
    assert _held(a) == set(SHOPS)
    assert {n: lease.epoch for n, lease in a.items()} == epochs  # renewed, never retaken


def test_a_hub_that_joins_gets_its_share_and_no_shop_has_two_holders() -> None:
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    a, b = _hub(ledger, "A", time_), _hub(ledger, "B", time_)
    _tick(a)
    assert _held(a) == set(SHOPS)
    for _ in range(int(2 * TTL)):
        time_.advance(1.0)
        _tick(a, b)
        assert not _held(a) & _held(b)  # never one shop in both hubs at once
    assert len(_held(a)) == 2 and len(_held(b)) == 1
    assert _held(a) | _held(b) == set(SHOPS)


def test_the_shops_of_a_hub_that_stops_renewing_move_within_one_lease_period() -> None:
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    a, b = _hub(ledger, "A", time_), _hub(ledger, "B", time_)
    _tick(a)
    _run(time_, 2 * TTL, a, b)
    dead = _held(b)
    assert dead
    epochs = {n: b[n].epoch for n in dead}
    # B dies: it ticks no more. A takes its shops once B's leases ran out, not before
    _run(time_, TTL - TTL / 3 - 1, a)
    assert _held(a) == set(SHOPS) - dead
    _run(time_, TTL / 3 + 2, a)
    assert _held(a) == set(SHOPS)
    assert all(a[n].epoch > epochs[n] for n in dead)


def test_a_hub_that_lost_its_lease_cannot_move_the_cursor() -> None:
    time_, memory = Time(), MemoryLedger()
    ledger = LocalLedger(memory)
    a, b = _hub(ledger, "A", time_, ("tmall/a",)), _hub(ledger, "B", time_, ("tmall/a",))
    _tick(a)
    old = a["tmall/a"].epoch
    memory.set_cursor("tmall", "a", time_.wall(), old)
    time_.advance(TTL + 1)  # A stalls past its lease; B takes the shop
    _tick(b)
    assert b["tmall/a"].holding() == old + 1
    moved = time_.wall()
    try:
        memory.ingest([], cursor=Cursor("tmall", "a", moved + timedelta(hours=1), old))
    except LeaseLost as exc:
        assert "epoch 2" in str(exc)
    else:
        raise AssertionError("a stale epoch moved the cursor")
    assert memory.get_cursor("tmall", "a") < moved + timedelta(minutes=1)
    _tick(a)  # A's renewal finds the lease gone
    assert a["tmall/a"].holding() is None


def test_release_hands_the_shop_over_at_once_with_a_higher_epoch() -> None:
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    a, b = _hub(ledger, "A", time_, ("jd/b",)), _hub(ledger, "B", time_, ("jd/b",))
    _tick(a)
    first = a["jd/b"].epoch
    _tick(b)
    assert b["jd/b"].holding() is None
    asyncio.run(a["jd/b"].release())
    time_.advance(TTL / 3)
    _tick(b)
    assert b["jd/b"].holding() == first + 1
    assert asyncio.run(held_names(ledger, "B", SHOPS, time_.wall())) == {"jd/b"}


def test_a_lease_outside_the_shared_set_is_first_come_and_kept() -> None:
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    terms_a, terms_b = LeaseTerms("A", TTL), LeaseTerms("B", TTL)
    feed_a = Lease(ledger, terms_a, "wms/status-feed", wall=time_.wall, monotonic=time_.mono)
    feed_b = Lease(ledger, terms_b, "wms/status-feed", wall=time_.wall, monotonic=time_.mono)
    _run(time_, 3 * TTL, {"x": feed_a}, {"x": feed_b})
    assert feed_a.holding() is not None and feed_b.holding() is None


def test_a_dead_hubs_shops_are_taken_as_soon_as_its_leases_run_out() -> None:
    """Each lease ticks when it asks to (``next_tick``), as a puller's loop does: the
    survivor looks again the moment the dead hub's leases and presence run out, not a
    renewal period later."""
    time_, ledger = Time(), LocalLedger(MemoryLedger())
    a, b = _hub(ledger, "A", time_), _hub(ledger, "B", time_)
    _tick(a)
    time_.advance(1.3)  # B ticks out of step with A
    _run(time_, 2 * TTL, a, b, step=0.1)
    dead = _held(b)
    expiry = max(r.expires_at for r in asyncio.run(ledger.leases()) if r.holder == "B")
    taken_at = None
    for _ in range(200):  # A's loop: wake when a lease asks to tick
        time_.t = max(min(lease.next_tick for lease in a.values()), time_.t)
        _tick(a)
        if _held(a) == set(SHOPS):
            taken_at = time_.wall()
            break
        time_.t += 0.001
    assert dead and taken_at is not None
    assert (taken_at - expiry).total_seconds() <= 0.1, taken_at - expiry
