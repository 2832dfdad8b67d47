"""The leases' part of the ledger contract (``hub.ledger.leases``): every store passes it.

Mixed into each backend's contract class beside :class:`tests.ledger.contract.LedgerContract`
(it uses that class's ``ledger`` and ``clock`` fixtures).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.ledger import Cursor, LeaseLost
from tests.ledger.factory import batch


class LeaseContract:
    def test_a_free_lease_is_taken_with_epoch_1_and_renewed_at_that_epoch(self, ledger, clock):
        now = clock.now()
        assert ledger.lease_acquire("tmall/a", "hub-A", 15, now) == 1
        assert ledger.lease_acquire("tmall/a", "hub-A", 15, now + timedelta(seconds=5), 1) == 1
        [row] = ledger.leases()
        assert (row.name, row.holder, row.epoch) == ("tmall/a", "hub-A", 1)
        assert row.expires_at == now + timedelta(seconds=20)
        assert row.acquired_at == now

    def test_a_running_lease_is_not_taken_and_an_expired_one_is_with_the_next_epoch(
            self, ledger, clock):
        now = clock.now()
        ledger.lease_acquire("jd/b", "hub-A", 15, now)
        assert ledger.lease_acquire("jd/b", "hub-B", 15, now + timedelta(seconds=14.9)) is None
        assert ledger.lease_acquire("jd/b", "hub-B", 15, now + timedelta(seconds=15)) == 2
        # the old holder's renewal with its epoch fails now
        assert ledger.lease_acquire("jd/b", "hub-A", 15, now + timedelta(seconds=16), 1) is None
        assert [(r.holder, r.epoch) for r in ledger.leases()] == [("hub-B", 2)]

    def test_the_same_hub_started_again_takes_its_lease_with_a_new_epoch(self, ledger, clock):
        now = clock.now()
        ledger.lease_acquire("jd/b", "hub-A", 15, now)
        assert ledger.lease_acquire("jd/b", "hub-A", 15, now + timedelta(seconds=1)) == 2

    def test_release_frees_the_lease_and_epochs_only_grow(self, ledger, clock):
        now = clock.now()
        ledger.lease_acquire("douyin/c", "hub-A", 15, now)
        assert not ledger.lease_release("douyin/c", "hub-B", 1, now)
        assert not ledger.lease_release("douyin/c", "hub-A", 2, now)
        assert ledger.lease_release("douyin/c", "hub-A", 1, now)
        assert ledger.lease_acquire("douyin/c", "hub-B", 15, now) == 2

    def test_leases_are_listed_by_name_and_prefix(self, ledger, clock):
        now = clock.now()
        for name in ("tmall/a", "hub/A/tmall/a", "jd/b"):
            ledger.lease_acquire(name, "hub-A", 15, now)
        assert [r.name for r in ledger.leases()] == ["hub/A/tmall/a", "jd/b", "tmall/a"]
        assert [r.name for r in ledger.leases("hub/")] == ["hub/A/tmall/a"]

    def test_a_cursor_moves_only_with_the_current_epoch(self, ledger, clock):
        now = clock.now()
        first = now - timedelta(minutes=10)
        ledger.set_cursor("tmall", "a", first)  # no epoch: no lease needed (one hub)
        with pytest.raises(LeaseLost, match="no lease"):
            ledger.set_cursor("tmall", "a", now, 1)
        ledger.lease_acquire("tmall/a", "hub-A", 15, now)
        ledger.set_cursor("tmall", "a", now, 1)
        assert ledger.get_cursor("tmall", "a") == now
        ledger.lease_acquire("tmall/a", "hub-B", 15, now + timedelta(seconds=20))
        with pytest.raises(LeaseLost, match="epoch 2, held by hub-B"):
            ledger.set_cursor("tmall", "a", now + timedelta(hours=1), 1)
        assert ledger.get_cursor("tmall", "a") == now

    def test_an_ingest_with_a_stale_epoch_writes_nothing(self, ledger, clock):
        now = clock.now()
        ledger.lease_acquire("tmall/flagship", "hub-A", 15, now)
        ledger.lease_acquire("tmall/flagship", "hub-B", 15, now + timedelta(seconds=16))
        orders = batch(1, 3)
        with pytest.raises(LeaseLost):
            ledger.ingest(orders, cursor=Cursor("tmall", "flagship", now, 1))
        assert ledger.get_cursor("tmall", "flagship") is None
        assert ledger.counts()["stages"] == {}
        assert ledger.ingest(orders, cursor=Cursor("tmall", "flagship", now, 2)) == orders
        assert ledger.get_cursor("tmall", "flagship") == now
