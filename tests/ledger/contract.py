"""The ledger contract: every store passes these tests.

A backend's test module subclasses :class:`LedgerContract` (and
:class:`PersistentContract` when data outlives the object), overriding the
``store`` fixture (where the data lives) and ``open`` (a ledger on that store).
"""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from typing import Any

import pytest

from hub.clock import ManualClock
from hub.domain.order import SHANGHAI
from hub.domain.outbox import WMS_AMEND, WMS_INTERCEPT, outbox_for
from hub.ledger import (
    MAX_PAYLOAD_BYTES,
    Cursor,
    Ledger,
    LedgerError,
    OutboxMessage,
    PayloadTooLarge,
    SchemaError,
    StageEvent,
)
from hub.ledger.schema import LATEST
from tests.ledger.factory import T0, batch, decision, decisions, order, outbox

NOW = datetime(2026, 11, 11, 10, 0, 0, tzinfo=SHANGHAI)


def put(ledger: Ledger, orders: list, **kw: Any) -> int:
    """Ingest orders, then commit a decision and outbox rows for each."""
    ledger.ingest(orders)
    made = decisions(orders, **kw)
    return ledger.commit_decisions(made, outbox(orders, made))


def event_count(ledger: Ledger) -> int:
    return len(ledger.events_since())


class LedgerContract:
    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock(NOW)

    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    def open(self, store: Any, clock: ManualClock) -> Ledger:
        raise NotImplementedError

    @pytest.fixture
    def ledger(self, store: Any, clock: ManualClock) -> Any:
        ledger = self.open(store, clock)
        yield ledger
        ledger.close()

    # -- ingest and idempotency ---------------------------------------------------------------
    def test_ingest_returns_new_orders_and_writes_received_events(self, ledger, clock):
        orders = batch(1, 5)
        assert ledger.ingest(orders) == orders
        assert ledger.counts()["stages"] == {"received": 5}
        view = ledger.get_order(orders[2].key)
        assert view.order == orders[2]
        assert [(e.stage, e.at, e.version) for e in view.timeline] == [
            ("received", clock.now(), orders[2].modified_at)]
        assert view.summary.received_at == clock.now()

    def test_reingesting_the_same_batch_changes_nothing_and_returns_nothing(self, ledger, clock):
        orders = batch(1, 20)
        assert len(ledger.ingest(orders)) == 20
        events, counts = event_count(ledger), ledger.counts()
        clock.advance(5)
        assert ledger.ingest(orders) == []
        assert ledger.ingest(list(reversed(orders))) == []
        assert (event_count(ledger), ledger.counts()) == (events, counts)
        assert ledger.get_order(orders[0].key).summary.stage_at == NOW

    def test_stored_versions_are_the_versions_held_for_the_keys_it_holds(self, ledger):
        from hub.ledger.times import micros

        orders = batch(1, 3)
        ledger.ingest(orders)
        newer = order(2, version=90)
        ledger.ingest([newer, order(1, version=-30)])  # the older one is not stored
        absent = order(99).key
        got = ledger.stored_versions([o.key for o in orders] + [absent, orders[0].key])
        assert got == {orders[0].key: micros(orders[0].modified_at),
                       newer.key: micros(newer.modified_at),
                       orders[2].key: micros(orders[2].modified_at)}
        assert ledger.stored_versions([]) == {} and ledger.stored_versions([absent]) == {}

    def test_older_or_equal_version_never_overwrites(self, ledger):
        newer = order(7, version=60, status="shipped")
        assert ledger.ingest([newer]) == [newer]
        older = order(7, version=0, status="cancelled")
        same_version_other_content = order(7, version=60, status="finished")
        assert ledger.ingest([older]) == []
        assert ledger.ingest([same_version_other_content]) == []
        view = ledger.get_order(newer.key)
        assert view.order == newer and view.summary.status == "shipped"
        assert [e.stage for e in view.timeline] == ["received"]

    def test_newest_version_in_one_batch_wins(self, ledger):
        v1, v2, v3 = order(3, version=1), order(3, version=9), order(3, version=5)
        assert ledger.ingest([v1, v2, v3]) == [v2]
        assert ledger.get_order(v1.key).order == v2

    def test_newer_version_overwrites_and_needs_a_new_decision(self, ledger, clock):
        first = order(4)
        put(ledger, [first])
        assert ledger.get_order(first.key).stage == "routed"
        clock.advance(10)
        changed = order(4, version=30, warehouse_hint="WH-2")
        assert ledger.ingest([changed]) == [changed]
        view = ledger.get_order(first.key)
        assert (view.stage, view.order.warehouse_hint) == ("received", "WH-2")
        assert ledger.undecided_orders(now=clock.now()) == [changed]
        assert put(ledger, [changed]) == 1
        assert ledger.get_order(first.key).decision.version == changed.modified_at.isoformat()

    def test_shipped_order_keeps_its_stage_when_a_new_version_arrives(self, ledger, clock):
        o = order(5)
        put(ledger, [o])
        ledger.record_stage([StageEvent(o.key, "shipped", clock.now(), tracking_no="SF1")])
        assert ledger.ingest([order(5, version=90, status="finished")])
        view = ledger.get_order(o.key)
        assert (view.stage, view.summary.status) == ("shipped", "finished")

    def test_cursor_moves_in_the_same_transaction_as_the_batch(self, ledger):
        end = T0 + timedelta(minutes=5)
        ledger.ingest(batch(1, 3), cursor=Cursor("tmall", "flagship", end))
        assert ledger.get_cursor("tmall", "flagship") == end
        assert ledger.get_cursor("jd", "flagship") is None
        huge = order(9, receiver=order(9).receiver.model_copy(
            update={"detail": "x" * (MAX_PAYLOAD_BYTES + 1)}))
        too_large = r"order tmall:flagship:O000000009 \(ingest item 1\) is 1.00 MiB"
        with pytest.raises(PayloadTooLarge, match=too_large):
            ledger.ingest([order(8), huge],
                          cursor=Cursor("tmall", "flagship", end + timedelta(minutes=5)))
        assert ledger.get_cursor("tmall", "flagship") == end
        assert ledger.get_order(order(8).key) is None
        ledger.ingest([], cursor=Cursor("tmall", "flagship", end + timedelta(minutes=9)))
        assert ledger.get_cursor("tmall", "flagship") == end + timedelta(minutes=9)
        ledger.set_cursor("jd", "flagship", end)
        assert ledger.get_cursor("jd", "flagship") == end

    def test_naive_times_are_refused(self, ledger):
        with pytest.raises(LedgerError, match="no time zone"):
            ledger.set_cursor("jd", "s", datetime(2026, 11, 11))
        with pytest.raises(LedgerError, match="ingest at"):
            ledger.ingest(batch(1, 2), at=datetime(2026, 11, 11))
        assert ledger.counts()["stages"] == {}

    # -- decisions ------------------------------------------------------------------------------
    def test_commit_decisions_stores_decision_events_and_outbox_once(self, ledger, clock):
        orders = batch(10, 6)
        ledger.ingest(orders)
        clock.advance(2)
        made = (decisions(orders[:2], lane="P0", ruleset_version=3)
                + decisions(orders[2:4], hold_reason="invalid_phone", ruleset_version=3)
                + decisions(orders[4:], remedies=("delivery:express",), ruleset_version=3))
        rows = outbox(orders, made)
        assert ledger.commit_decisions(made, rows) == 6
        events = event_count(ledger)
        assert ledger.commit_decisions(made, rows) == 0
        assert ledger.commit_decisions(list(reversed(made)), rows) == 0
        assert event_count(ledger) == events == 6 * 4
        assert ledger.pending_count() == 6
        assert ledger.counts() == {"stages": {"routed": 2, "held": 2, "auto_remedied": 2},
                                   "lanes": {"P0": 2, "P1": 4}}
        view = ledger.get_order(orders[2].key)
        s = view.summary
        assert (s.stage, s.lane, s.score, s.packing_group, s.hold_reason, s.hold_group,
                s.ruleset_version) == ("held", "P1", 66.5, "lane-P1", "invalid_phone",
                                       "cs-address", 3)
        assert view.decision == made[2]
        assert [(e.stage, e.at) for e in view.timeline] == [
            ("received", NOW), ("validated", clock.now()), ("scored", clock.now()),
            ("held", clock.now())]
        assert view.timeline[1].detail == {"anomalies": ["invalid_phone"]}
        assert view.timeline[3].detail == {"reason": "invalid_phone"}
        assert ledger.get_order(orders[4].key).timeline[3].detail == {
            "remedies": ["delivery:express"]}

    def test_decision_for_an_older_version_is_ignored_with_its_outbox_rows(self, ledger):
        old, new = order(20), order(20, version=40)
        ledger.ingest([old])
        ledger.ingest([new])
        stale = decision(old)
        stale_rows = [OutboxMessage("wms", "wms:stale", {"x": 1}, order_key=old.key)]
        assert ledger.commit_decisions([stale], stale_rows) == 0
        assert ledger.pending_count() == 0
        assert ledger.get_order(old.key).stage == "received"
        assert ledger.get_order(old.key).decision is None

    def test_rows_of_an_already_decided_version_are_dropped_even_with_new_keys(self, ledger):
        o = order(21)
        put(ledger, [o], hold_reason="invalid_phone")
        again = decision(o, hold_reason="invalid_phone")
        retry_rows = [OutboxMessage("dingtalk", "alert:retry", {"channel": o.channel.value,
                                                                 "shop": o.shop,
                                                                 "order_id": o.order_id})]
        assert ledger.commit_decisions([again], retry_rows) == 0
        assert ledger.pending_count() == 1

    def test_held_orders_are_the_orders_held_for_a_reason_now(self, ledger, clock):
        unmapped, other, routed = order(23), order(24), order(25)
        ledger.ingest([unmapped, other, routed])
        ledger.commit_decisions([decision(unmapped, hold_reason="unmapped_sku"),
                                 decision(other, hold_reason="invalid_phone"),
                                 decision(routed)], [])
        assert ledger.held_orders("unmapped_sku") == [unmapped]
        assert ledger.held_orders("invalid_phone", limit=5) == [other]
        newer = order(23, version=30)
        ledger.ingest([newer])  # a new version is undecided, not held
        assert ledger.held_orders("unmapped_sku") == []

    def test_a_held_version_decided_again_is_stored_while_it_is_held(self, ledger, clock):
        from hub.domain.decision import REDECIDES

        o = order(26)
        ledger.ingest([o])
        ledger.commit_decisions([decision(o, hold_reason="unmapped_sku")], [])
        again = decision(o)
        again.extra[REDECIDES] = "unmapped_sku"
        rows = [OutboxMessage("wms", f"wms:{':'.join(o.key)}", {"order_id": o.order_id},
                              order_key=o.key)]
        assert ledger.commit_decisions([decision(o)], rows) == 0  # not marked: stays held
        assert ledger.get_order(o.key).stage == "held" and ledger.pending_count() == 0
        clock.advance(1)
        assert ledger.commit_decisions([again], rows) == 1
        view = ledger.get_order(o.key)
        assert view.stage == "routed" and view.summary.hold_reason is None
        assert view.decision.extra[REDECIDES] == "unmapped_sku"
        assert ledger.pending_count() == 1 and ledger.held_orders("unmapped_sku") == []
        assert ledger.commit_decisions([again], rows) == 0  # no longer held: once only

    def test_decision_for_an_unknown_order_is_ignored(self, ledger):
        ghost = order(22)
        assert ledger.commit_decisions(decisions([ghost]), []) == 0
        assert ledger.counts()["stages"] == {}

    def test_outbox_idempotency_key_is_unique(self, ledger):
        a, b = order(30), order(31)
        ledger.ingest([a, b])
        shared = [OutboxMessage("erp", "erp:sync:1", {"n": 1}, order_key=a.key),
                  OutboxMessage("erp", "erp:sync:1", {"n": 2}, order_key=b.key)]
        assert ledger.commit_decisions(decisions([a, b]), shared) == 2
        assert ledger.commit_decisions([], [OutboxMessage("erp", "erp:sync:1", {"n": 3})]) == 0
        claimed = ledger.claim(10, 30, NOW + timedelta(hours=1))
        assert [(m.key, m.payload) for m in claimed] == [("erp:sync:1", {"n": 1})]

    def test_bad_decision_is_refused_before_anything_is_written(self, ledger):
        orders = batch(40, 3)
        ledger.ingest(orders)
        made = decisions(orders)
        bad = decision(orders[1]).__class__(**{**made[1].to_dict(), "version": "yesterday",
                                                "anomalies": ()})
        with pytest.raises(LedgerError, match=r"decision 1 .*'yesterday'"):
            ledger.commit_decisions([made[0], bad, made[2]], outbox(orders, made))
        assert ledger.counts()["stages"] == {"received": 3}
        assert ledger.pending_count() == 0

    # -- stages from outside --------------------------------------------------------------------
    def test_wms_stages_move_the_order_and_set_its_tracking_number(self, ledger, clock):
        o = order(50)
        put(ledger, [o])
        for n, stage in enumerate(("picked", "packed", "shipped")):
            clock.advance(60)
            tracking = "SF100" if stage == "shipped" else None
            assert ledger.record_stage([StageEvent(o.key, stage, clock.now(), {"n": n},
                                                   tracking)]) == 1
        view = ledger.get_order(o.key)
        assert (view.stage, view.tracking_no) == ("shipped", "SF100")
        assert [e.stage for e in view.timeline][-3:] == ["picked", "packed", "shipped"]
        assert view.timeline[-1].tracking_no == "SF100" and view.timeline[-2].detail == {"n": 1}
        assert [s.key for s in ledger.find_orders(tracking_no="SF100")] == [o.key]

    def test_fulfilment_stages_only_move_forward_but_all_are_recorded(self, ledger, clock):
        o = order(51)
        put(ledger, [o])
        ledger.record_stage([StageEvent(o.key, "packed", clock.now()),
                             StageEvent(o.key, "picked", clock.now())])
        view = ledger.get_order(o.key)
        assert view.stage == "packed"
        assert [e.stage for e in view.timeline][-2:] == ["packed", "picked"]

    def test_a_warehouse_status_reported_twice_is_stored_once(self, ledger, clock):
        o = order(54)
        put(ledger, [o])
        statuses = [StageEvent(o.key, "picked", clock.now()),
                    StageEvent(o.key, "shipped", clock.now(), tracking_no="SF1")]
        assert ledger.record_stage(statuses) == 2
        clock.advance(5)  # the status feed brings the same statuses the callback did
        again = [StageEvent(o.key, "picked", clock.now()), StageEvent(o.key, "picked", clock.now()),
                 StageEvent(o.key, "shipped", clock.now(), tracking_no="SF1"),
                 StageEvent(o.key, "shipped", clock.now(), tracking_no="SF2")]
        assert ledger.record_stage(again) == 1
        stages = [(e.stage, e.tracking_no) for e in ledger.get_order(o.key).timeline
                  if e.stage in ("picked", "shipped")]
        assert stages == [("picked", None), ("shipped", "SF1"), ("shipped", "SF2")]
        assert ledger.get_order(o.key).summary.tracking_no == "SF2"

    def test_stage_event_for_an_unknown_order_is_quarantined_not_lost(self, ledger, clock):
        known = order(52)
        ledger.ingest([known])
        ghost = ("jd", "flagship", "NOPE")
        assert ledger.record_stage([StageEvent(ghost, "picked", clock.now()),
                                    StageEvent(known.key, "cancelled", clock.now())]) == 1
        [bad] = ledger.quarantine_list()
        assert "NOPE" in bad.error and '"stage":"picked"' in bad.text
        assert ledger.get_order(known.key).stage == "cancelled"

    def test_unknown_stage_is_refused_naming_it(self, ledger, clock):
        o = order(53)
        ledger.ingest([o])
        with pytest.raises(LedgerError, match=r"stage event 1 .*'teleported'"):
            ledger.record_stage([StageEvent(o.key, "picked", clock.now()),
                                 StageEvent(o.key, "teleported", clock.now())])
        assert [e.stage for e in ledger.get_order(o.key).timeline] == ["received"]

    def test_release_of_a_hold_with_its_dispatch_row(self, ledger, clock):
        o = order(54)
        put(ledger, [o], hold_reason="incomplete_address")
        assert [a["reason"] for a in ledger.open_anomalies()] == ["incomplete_address"]
        row = OutboxMessage("wms", "wms:released:54", {"order_id": o.order_id}, order_key=o.key)
        ledger.record_stage([StageEvent(o.key, "released", clock.now(), {"by": "ops"})], [row])
        assert ledger.open_anomalies() == []
        assert ledger.get_order(o.key).stage == "released"
        assert ledger.pending_count() == 2

    def test_reconcile_mismatch_shows_until_the_next_stage(self, ledger, clock):
        o = order(55)
        put(ledger, [o])
        ledger.record_stage([StageEvent(o.key, "shipped", clock.now())])
        ledger.record_stage([StageEvent(o.key, "reconcile_mismatch", clock.now(),
                                        {"reason": "WMS has no such order"})])
        [anomaly] = ledger.open_anomalies()
        assert (anomaly["reason"], anomaly["count"]) == ("reconcile_mismatch", 1)
        ledger.record_stage([StageEvent(o.key, "shipped", clock.now())])
        assert ledger.open_anomalies() == []

    # -- operator actions ------------------------------------------------------------------------
    def test_an_amended_order_is_stored_with_its_decision_rows_and_the_operators_event(
            self, ledger, clock):
        o = order(56)
        put(ledger, [o], hold_reason="incomplete_address")
        events, pending = event_count(ledger), ledger.pending_count()
        clock.advance(60)
        fixed = order(56, version=120, receiver=o.receiver.model_copy(update={"district": "x"}))
        [made] = decisions([fixed], ruleset_version=2)
        assert ledger.apply_operator_action(
            o.key, "released", clock.now(), {"by": "ops", "action": "edit_address"},
            only_from=("held", "reconcile_mismatch"), outbox=outbox([fixed], [made]),
            amended=fixed, decision=made) is True
        view = ledger.get_order(o.key)
        assert (view.order, view.decision, view.stage) == (fixed, made, "released")
        assert view.summary.version == fixed.modified_at and view.summary.ruleset_version == 2
        assert [(e.stage, e.at, e.version) for e in view.timeline[-5:]] == [
            (stage, clock.now(), fixed.modified_at)
            for stage in ("received", "validated", "scored", "routed")] + [
            ("released", clock.now(), None)]
        assert view.timeline[-1].detail == {"by": "ops", "action": "edit_address"}
        assert event_count(ledger) == events + 5
        assert ledger.pending_count() == pending + 1
        assert ledger.undecided_orders() == []

    def test_an_operator_action_on_an_order_in_another_stage_stores_nothing(self, ledger, clock):
        o = order(57)
        put(ledger, [o])  # routed, not held
        events, pending = event_count(ledger), ledger.pending_count()
        fixed = order(57, version=120)
        [made] = decisions([fixed])
        assert ledger.apply_operator_action(
            o.key, "released", clock.now(), {"by": "ops"}, only_from=("held",),
            outbox=outbox([fixed], [made]), amended=fixed, decision=made) is False
        assert ledger.apply_operator_action(order(58).key, "cancelled", clock.now(), {},
                                            only_from=()) is False
        view = ledger.get_order(o.key)
        assert (view.order, view.stage) == (o, "routed")
        assert (event_count(ledger), ledger.pending_count()) == (events, pending)

    def test_an_amendment_older_than_the_stored_version_stores_nothing(self, ledger, clock):
        o, newer = order(59), order(59, version=500)
        put(ledger, [o], hold_reason="incomplete_address")
        put(ledger, [newer], hold_reason="incomplete_address")  # the marketplace moved on
        events = event_count(ledger)
        fixed = order(59, version=120)
        [made] = decisions([fixed])
        assert ledger.apply_operator_action(
            o.key, "released", clock.now(), {}, only_from=("held",), amended=fixed,
            decision=made) is False
        assert ledger.get_order(o.key).order == newer
        assert event_count(ledger) == events

    def test_a_release_and_a_cancel_are_operator_events(self, ledger, clock):
        held, other = order(61), order(62)
        put(ledger, [held], hold_reason="incomplete_address")
        put(ledger, [other])
        pending = ledger.pending_count()
        row = OutboxMessage("wms", "wms:released:61", {"order_id": held.order_id},
                            order_key=held.key)
        assert ledger.apply_operator_action(held.key, "released", clock.now(), {"by": "ops"},
                                            only_from=("held",), outbox=[row]) is True
        assert ledger.apply_operator_action(other.key, "cancelled", clock.now(), {"by": "ops"})
        assert ledger.get_order(held.key).stage == "released"
        assert ledger.get_order(other.key).stage == "cancelled"
        assert ledger.get_order(other.key).timeline[-1].detail == {"by": "ops"}
        assert ledger.pending_count() == pending + 1
        assert ledger.apply_operator_action(held.key, "released", clock.now(), {},
                                            only_from=("held",), outbox=[row]) is False

    def test_a_decision_not_about_the_amended_version_is_refused_before_writing(self, ledger,
                                                                               clock):
        o = order(63)
        put(ledger, [o], hold_reason="incomplete_address")
        events = event_count(ledger)
        fixed = order(63, version=120)
        with pytest.raises(LedgerError, match="not about the amended version"):
            ledger.apply_operator_action(o.key, "released", clock.now(), {},
                                         amended=fixed, decision=decision(o))
        with pytest.raises(LedgerError, match="needs its decision"):
            ledger.apply_operator_action(o.key, "released", clock.now(), {}, amended=fixed)
        assert ledger.get_order(o.key).order == o
        assert event_count(ledger) == events

    # -- a later version against the dispatch (hub.ledger.followups) ---------------------------
    def decide(self, ledger: Ledger, o: Any, **kw: Any) -> int:
        """Ingest ``o`` and commit its decision with what the domain says it owes."""
        ledger.ingest([o])
        made = decisions([o], **kw)
        return ledger.commit_decisions(made, outbox_for([o], made))

    def rows(self, ledger: Ledger, clock: ManualClock) -> dict[str, OutboxMessage]:
        """Every undelivered row by key (claimed far ahead, so any lease has run out)."""
        return {m.key: m for m in ledger.claim(100, 0.001, clock.now() + timedelta(days=1))}

    def test_a_cancellation_withdraws_an_unsent_dispatch_and_records_cancelled(self, ledger,
                                                                               clock):
        o, kept = order(1001), order(1002)
        self.decide(ledger, o)
        self.decide(ledger, kept)
        assert ledger.pending_count() == 2
        clock.advance(30)
        cancelled = order(1001, version=60, status="cancelled")
        assert self.decide(ledger, cancelled) == 1
        assert list(self.rows(ledger, clock)) == [f"wms:{':'.join(kept.key)}"]
        view = ledger.get_order(o.key)
        assert view.stage == "cancelled" and view.timeline[-1].stage == "cancelled"
        assert view.timeline[-1].detail == {"dispatch": "withdrawn"}
        assert view.timeline[-2].stage == "routed"  # the decision about that version, before

    def test_a_cancellation_before_any_dispatch_is_recorded_and_owes_nothing(self, ledger):
        held = order(1003)
        self.decide(ledger, held, hold_reason="incomplete_address")
        pending = ledger.pending_count()
        assert self.decide(ledger, order(1003, version=60, status="cancelled")) == 1
        first_seen = order(1004, status="cancelled")
        assert self.decide(ledger, first_seen) == 1
        assert ledger.pending_count() == pending  # no intercept, no alert
        assert ledger.get_order(held.key).stage == "cancelled"
        assert ledger.get_order(held.key).timeline[-1].detail == {"dispatch": "not sent"}
        assert ledger.get_order(first_seen.key).stage == "cancelled"

    def test_a_cancellation_after_delivery_owes_an_intercept_per_version(self, ledger, clock):
        o = order(1005)
        self.decide(ledger, o)
        [dispatch] = ledger.claim(10, 30, clock.now())
        ledger.delivered([dispatch.id], clock.now())
        clock.advance(30)
        cancelled = order(1005, version=60, status="cancelled")
        assert self.decide(ledger, cancelled) == 1
        [row] = self.rows(ledger, clock).values()
        assert row.destination == WMS_INTERCEPT
        assert row.key == f"wms-intercept:{':'.join(o.key)}:{cancelled.modified_at.isoformat()}"
        assert row.payload["reason"] == "cancelled" and row.payload["order_id"] == o.order_id
        view = ledger.get_order(o.key)
        assert view.stage == "dispatched"  # the WMS's answer moves it, not the decision
        assert "cancelled" not in [e.stage for e in view.timeline]
        assert self.decide(ledger, cancelled) == 0  # decided again: nothing more
        assert ledger.pending_count() == 1

    def test_an_in_flight_dispatch_counts_as_sent(self, ledger, clock):
        o = order(1006)
        self.decide(ledger, o)
        [dispatch] = ledger.claim(10, 30, clock.now())  # leased: the relay is sending it
        cancelled = order(1006, version=60, status="cancelled")
        assert self.decide(ledger, cancelled) == 1
        assert ledger.claim(10, 30, clock.now()) != []  # the intercept is due now
        rows = self.rows(ledger, clock)
        assert set(rows) == {dispatch.key, f"wms-intercept:{':'.join(o.key)}:"
                                           f"{cancelled.modified_at.isoformat()}"}
        assert ledger.delivered([dispatch.id], clock.now()) == 1  # the send still completes
        assert ledger.get_order(o.key).stage == "dispatched"

    def test_an_address_change_before_sending_replaces_the_dispatch(self, ledger, clock):
        o = order(1007)
        self.decide(ledger, o)
        moved = order(1007, version=60, receiver=o.receiver.model_copy(
            update={"detail": "新地址 8 号", "phone": "13900001111"}))
        assert self.decide(ledger, moved) == 1
        [row] = self.rows(ledger, clock).values()
        assert row.key == f"wms:{':'.join(o.key)}"
        assert row.payload["receiver"]["detail"] == "新地址 8 号"
        assert row.payload["receiver"]["phone"] == "13900001111"
        assert ledger.get_order(o.key).stage == "routed"

    def test_an_address_change_after_sending_owes_an_amendment_each_time(self, ledger, clock):
        o = order(1008)
        self.decide(ledger, o)
        [dispatch] = ledger.claim(10, 30, clock.now())
        ledger.delivered([dispatch.id], clock.now())
        same = order(1008, version=30, warehouse_hint="WH-2")  # nothing the WMS ships changed
        assert self.decide(ledger, same) == 1 and ledger.pending_count() == 0
        first = order(1008, version=60, receiver=o.receiver.model_copy(
            update={"detail": "新地址 1 号"}))
        second = order(1008, version=90, receiver=o.receiver)  # and back again
        for n, version in enumerate((first, second), start=1):
            assert self.decide(ledger, version) == 1
            assert ledger.pending_count() == n
        rows = self.rows(ledger, clock)
        amend1 = rows[f"wms-amend:{':'.join(o.key)}:{first.modified_at.isoformat()}"]
        amend2 = rows[f"wms-amend:{':'.join(o.key)}:{second.modified_at.isoformat()}"]
        assert amend1.destination == amend2.destination == WMS_AMEND
        assert amend1.payload["receiver"]["detail"] == "新地址 1 号"
        assert "items" not in amend1.payload
        assert amend2.payload["receiver"]["detail"] == o.receiver.detail
        assert ledger.get_order(o.key).stage == "dispatched"
        assert ledger.delivered([amend1.id], clock.now()) == 1
        assert ledger.get_order(o.key).stage == "dispatched"  # an amend row is no dispatch

    def test_a_later_version_held_withdraws_an_unsent_dispatch(self, ledger, clock):
        o = order(1009)
        self.decide(ledger, o)
        bad = order(1009, version=60, receiver=o.receiver.model_copy(update={"district": ""}))
        assert self.decide(ledger, bad, hold_reason="incomplete_address") == 1
        assert [m.destination for m in self.rows(ledger, clock).values()] == ["dingtalk"]
        assert ledger.get_order(o.key).stage == "held"

    def test_a_stale_cancellation_changes_nothing(self, ledger, clock):
        o = order(1010)
        self.decide(ledger, o)
        newer = order(1010, version=90)
        ledger.ingest([newer])
        stale = order(1010, version=60, status="cancelled")
        made = decisions([stale])
        assert ledger.commit_decisions(made, outbox_for([stale], made)) == 0
        assert list(self.rows(ledger, clock)) == [f"wms:{':'.join(o.key)}"]
        assert ledger.get_order(o.key).stage == "received"

    # -- outbox ----------------------------------------------------------------------------------
    def test_claim_leases_rows_until_the_lease_expires(self, ledger, clock):
        orders = batch(60, 5)
        put(ledger, orders)
        now = clock.now()
        first = ledger.claim(3, 30, now)
        assert [m.attempts for m in first] == [1, 1, 1]
        second = ledger.claim(10, 30, now + timedelta(seconds=1))
        assert len(second) == 2 and not {m.id for m in first} & {m.id for m in second}
        assert ledger.claim(10, 30, now + timedelta(seconds=29)) == []
        again = ledger.claim(10, 30, now + timedelta(seconds=30.5))
        assert sorted(m.id for m in again) == sorted(m.id for m in first)
        assert {m.attempts for m in again} == {2}
        assert ledger.pending_count() == 5

    def test_delivered_rows_leave_and_a_wms_delivery_records_dispatched(self, ledger, clock):
        orders = batch(70, 4)
        put(ledger, orders[:2])
        put(ledger, orders[2:], hold_reason="invalid_phone")
        rows = ledger.claim(10, 30, clock.now())
        assert {m.destination for m in rows} == {"wms", "dingtalk"}
        clock.advance(3)
        assert ledger.delivered([m.id for m in rows], clock.now()) == 4
        assert ledger.delivered([m.id for m in rows], clock.now()) == 0
        assert ledger.pending_count() == 0
        assert ledger.claim(10, 30, clock.now() + timedelta(hours=1)) == []
        assert [ledger.get_order(o.key).stage for o in orders] == [
            "dispatched", "dispatched", "held", "held"]
        assert ledger.get_order(orders[0].key).timeline[-1].at == clock.now()

    def test_failed_rows_back_off_exponentially(self, ledger, clock):
        put(ledger, [order(80)])
        now = clock.now()
        [row] = ledger.claim(1, 10, now)
        expected = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
        for attempt, delay in enumerate(expected, start=1):
            assert row.attempts == attempt
            ledger.failed(row.id, f"HTTP 503 from WMS (try {attempt})", now)
            assert ledger.claim(1, 10, now + timedelta(seconds=delay - 0.01)) == []
            now += timedelta(seconds=delay)
            [row] = ledger.claim(1, 10, now)
        assert row.last_error == "HTTP 503 from WMS (try 11)"
        assert ledger.pending_count() == 1

    def test_failed_many_backs_off_each_row_and_sets_dead_letters_aside_in_one_write(
            self, ledger, clock):
        orders = batch(85, 3)
        put(ledger, orders)
        now = clock.now()
        a, b, c = ledger.claim(3, 10, now)
        dead_event = StageEvent(c.order_ref(), "dispatch_failed", now, {"reason": "refused"})
        alert = OutboxMessage("dingtalk", f"alert:warehouse:{c.key}:dead", {
            "group": "warehouse", "channel": c.payload["channel"], "shop": c.payload["shop"],
            "order_id": c.payload["order_id"]})
        marked = ledger.failed_many([(a.id, "refused: bad line"), (b.id, "HTTP 503"),
                                     (999, "gone")], now, dead=[(c.id, "refused 8 times")],
                                    events=[dead_event], outbox=[alert])
        assert marked == 3
        assert ledger.pending_count() == 3  # a, b and the alert; the dead letter is not
        assert [m.key for m in ledger.claim(10, 10, now + timedelta(seconds=0.99))] == [
            alert.key]
        due = ledger.claim(10, 10, now + timedelta(seconds=1))
        assert {m.key: m.last_error for m in due} == {a.key: "refused: bad line",
                                                      b.key: "HTTP 503"}
        assert ledger.get_order(c.order_ref()).stage == "dispatch_failed"
        [letter] = ledger.dead_letters()
        assert (letter.id, letter.key, letter.order, letter.attempts, letter.last_error) == (
            c.id, c.key, c.order_ref(), 1, "refused 8 times")
        assert letter.dead_at == now and ledger.dead_letter(a.id) is None
        assert ledger.claim(10, 10, now + timedelta(days=1)) != [] and all(
            m.id != c.id for m in ledger.claim(10, 10, now + timedelta(days=2)))
        assert ledger.failed_many([], now) == 0

    def test_a_dead_letter_resent_is_due_again_with_fresh_tries_and_released(self, ledger,
                                                                             clock):
        put(ledger, [order(88)])
        now = clock.now()
        [row] = ledger.claim(1, 10, now)
        ledger.failed_many([], now, dead=[(row.id, "refused")],
                           events=[StageEvent(row.order_ref(), "dispatch_failed", now)])
        clock.advance(60)
        assert not ledger.resend_dead_letter(row.id + 1000, clock.now(), {"by": "ops"})
        assert ledger.resend_dead_letter(row.id, clock.now(), {"by": "ops", "action": "resend"})
        assert not ledger.resend_dead_letter(row.id, clock.now(), {"by": "ops"})  # once
        assert ledger.dead_letters() == [] and ledger.pending_count() == 1
        view = ledger.get_order(row.order_ref())
        assert view.stage == "released" and view.timeline[-1].detail == {
            "by": "ops", "action": "resend"}
        [again] = ledger.claim(1, 10, clock.now())
        assert (again.id, again.attempts, again.last_error) == (row.id, 1, None)
        ledger.delivered([again.id], clock.now())
        assert ledger.get_order(row.order_ref()).stage == "dispatched"

    def test_a_cancellation_withdraws_a_dead_letter_the_wms_never_took(self, ledger, clock):
        o = order(1090)
        self.decide(ledger, o)
        [row] = ledger.claim(1, 10, clock.now())
        ledger.failed_many([], clock.now(), dead=[(row.id, "refused")])
        clock.advance(30)
        assert self.decide(ledger, order(1090, version=60, status="cancelled")) == 1
        assert ledger.dead_letters() == [] and ledger.pending_count() == 0
        assert ledger.get_order(o.key).stage == "cancelled"

    def test_failed_on_an_unknown_row_is_a_clear_error(self, ledger, clock):
        with pytest.raises(LedgerError, match="outbox row 999 does not exist"):
            ledger.failed(999, "x", clock.now())

    # -- cursors, quarantine, rule sets --------------------------------------------------------
    def test_quarantine_keeps_bytes_text_and_parsed_records(self, ledger, clock):
        ledger.quarantine_add("tmall", "flagship", b"\xff\x00not json", "body is not JSON",
                              clock.now())
        ledger.quarantine_add("jd", "s2", "{\"orderId\": 1", "truncated", clock.now())
        ledger.quarantine_add("douyin", "s3", {"order_id": "D1", "amount": "abc"},
                              "[0].amount: not an integer", clock.now())
        newest, middle, oldest = ledger.quarantine_list()
        assert oldest.raw == b"\xff\x00not json" and oldest.error == "body is not JSON"
        assert middle.text == '{"orderId": 1' and (middle.channel, middle.shop) == ("jd", "s2")
        assert '"amount":"abc"' in newest.text and newest.at == clock.now()
        assert [q.channel for q in ledger.quarantine_list(limit=1)] == ["douyin"]

    def test_oversized_quarantine_payload_is_refused_and_nothing_is_stored(self, ledger, clock):
        with pytest.raises(PayloadTooLarge, match=r"quarantined raw payload is 1\.00 MiB"):
            ledger.quarantine_add("tmall", "s", b"x" * (MAX_PAYLOAD_BYTES + 1), "e", clock.now())
        with pytest.raises(PayloadTooLarge, match="outbox row 0"):
            ledger.commit_decisions([], [OutboxMessage("erp", "k",
                                                       {"blob": "x" * MAX_PAYLOAD_BYTES})])
        assert ledger.quarantine_list() == [] and ledger.pending_count() == 0

    def test_rule_sets_are_versioned(self, ledger, clock):
        assert ledger.get_ruleset() is None and ledger.list_rulesets() == []
        ledger.publish_ruleset(1, "version: 1\n", "default", clock.now())
        clock.advance(60)
        ledger.publish_ruleset(2, "version: 2\n", "ops@api", clock.now())
        ledger.publish_ruleset(2, "version: 2\n", "ops@api", clock.now())
        with pytest.raises(LedgerError, match="version 2 is already published"):
            ledger.publish_ruleset(2, "version: 2\nname: other\n", "x", clock.now())
        latest = ledger.get_ruleset()
        assert (latest.version, latest.text, latest.published_by, latest.published_at) == (
            2, "version: 2\n", "ops@api", clock.now())
        assert ledger.get_ruleset(1).text == "version: 1\n"
        assert ledger.get_ruleset(7) is None
        assert [r.version for r in ledger.list_rulesets()] == [1, 2]

    def test_rule_drafts_are_kept_and_published_once_with_their_author(self, ledger, clock):
        assert ledger.list_rule_drafts() == [] and ledger.get_rule_draft(1) is None
        ledger.publish_ruleset(1, "version: 1\n", "default", clock.now())
        drafted = clock.now()
        first = ledger.add_rule_draft("version: 2\n", "anna", "jd to P1", drafted)
        clock.advance(30)
        second = ledger.add_rule_draft("version: 2\nname: b\n", "anna", "", clock.now())
        assert [d.id for d in ledger.list_rule_drafts()] == [second, first]
        got = ledger.get_rule_draft(first)
        assert (got.text, got.author, got.comment, got.created_at, got.published_version) == (
            "version: 2\n", "anna", "jd to P1", drafted, None)
        clock.advance(60)
        ledger.publish_ruleset(2, "version: 2\n", "paul", clock.now(), author="anna",
                               draft=first)
        assert ledger.get_rule_draft(first).published_version == 2
        v2 = ledger.get_ruleset(2)
        assert (v2.published_by, v2.author, v2.draft, v2.drafted_at, v2.published_at) == (
            "paul", "anna", first, drafted, clock.now())
        assert ledger.get_ruleset(1).author is None and ledger.get_ruleset(1).draft is None
        assert [(r.version, r.author) for r in ledger.list_rulesets()] == [(1, None), (2, "anna")]
        # the same version again is a no-op; the draft is not published twice
        ledger.publish_ruleset(2, "version: 2\n", "paul", clock.now(), author="anna",
                               draft=first)
        with pytest.raises(LedgerError, match="published already"):
            ledger.publish_ruleset(3, "version: 3\n", "paul", clock.now(), author="anna",
                                   draft=first)
        assert ledger.get_ruleset(3) is None  # nothing of the refused call was stored
        with pytest.raises(LedgerError, match="unknown or published"):
            ledger.publish_ruleset(3, "version: 3\n", "paul", clock.now(), draft=999)
        assert ledger.get_ruleset(None).version == 2
        with pytest.raises(PayloadTooLarge):
            ledger.add_rule_draft("x" * (MAX_PAYLOAD_BYTES + 1), "anna", "", clock.now())
        with pytest.raises(LedgerError, match="comment"):
            ledger.add_rule_draft("version: 4\n", "anna", "c" * 5000, clock.now())
        assert len(ledger.list_rule_drafts()) == 2

    # -- queries ----------------------------------------------------------------------------
    def test_get_order_of_an_unknown_key_is_none(self, ledger):
        assert ledger.get_order(("tmall", "flagship", "missing")) is None

    def test_find_orders_by_each_field_newest_first(self, ledger, clock):
        orders = batch(100, 6)
        for o in orders:  # one batch each: "newest first" is arrival order
            ledger.ingest([o])
        made = (decisions(orders[:2], lane="P0") + decisions(orders[2:4], lane="P2")
                + decisions(orders[4:], lane="P3", hold_reason="payment_mismatch"))
        ledger.commit_decisions(made, [])
        ledger.record_stage([StageEvent(orders[0].key, "shipped", clock.now(),
                                        tracking_no="YT9")])
        keys = lambda rows: [r.key for r in rows]  # noqa: E731
        assert keys(ledger.find_orders(lane="P2")) == [orders[3].key, orders[2].key]
        assert keys(ledger.find_orders(stage="held")) == [orders[5].key, orders[4].key]
        assert keys(ledger.find_orders(hold_reason="payment_mismatch", limit=1)) == [
            orders[5].key]
        assert keys(ledger.find_orders(tracking_no="YT9")) == [orders[0].key]
        assert keys(ledger.find_orders(order_id=orders[1].order_id)) == [orders[1].key]
        assert keys(ledger.find_orders(channel="tmall")) == [
            o.key for o in reversed(orders) if o.channel.value == "tmall"]
        assert keys(ledger.find_orders(stage="routed", lane="P0")) == [orders[1].key]
        assert len(ledger.find_orders()) == 6 and ledger.find_orders(stage="picked") == []

    def test_counts_and_open_anomalies_by_reason_and_group(self, ledger, clock):
        orders = batch(200, 7)
        ledger.ingest(orders)
        ledger.commit_decisions(decisions(orders[:3], hold_reason="incomplete_address"), [])
        clock.advance(30)
        ledger.commit_decisions(decisions(orders[3:5], hold_reason="out_of_stock_paid"), [])
        assert ledger.counts() == {"stages": {"held": 5, "received": 2}, "lanes": {"P1": 5}}
        rows = ledger.open_anomalies()
        assert [(r["reason"], r["group"], r["count"]) for r in rows] == [
            ("incomplete_address", "cs-address", 3), ("out_of_stock_paid", "cs-address", 2)]
        assert rows[0]["oldest_at"] == NOW and rows[1]["oldest_at"] == clock.now()

    def test_stage_durations_per_lane_over_a_window(self, ledger, clock):
        fast, slow = batch(300, 2), batch(310, 2)
        ledger.ingest(fast + slow)
        clock.advance(2)
        ledger.commit_decisions(decisions(fast, lane="P0"), [])
        clock.advance(8)
        ledger.commit_decisions(decisions(slow, lane="P3"), [])
        clock.advance(50)
        ledger.record_stage([StageEvent(o.key, "picked", clock.now()) for o in fast])
        rows = {(r["lane"], r["from"], r["to"]): r for r in ledger.stage_durations(NOW)}
        assert rows[("P0", "received", "validated")]["mean_s"] == 2.0
        assert rows[("P3", "received", "validated")]["p50_s"] == 10.0
        assert rows[("P0", "routed", "picked")] | {} == {
            "lane": "P0", "from": "routed", "to": "picked", "n": 2, "mean_s": 58.0,
            "p50_s": 58.0, "p90_s": 58.0, "max_s": 58.0}
        later = ledger.stage_durations(NOW + timedelta(seconds=1))
        assert ("P0", "received", "validated") not in {(r["lane"], r["from"], r["to"])
                                                      for r in later}
        assert ledger.stage_durations(NOW, NOW + timedelta(seconds=1)) == []

    def test_recent_orders_newest_first(self, ledger):
        orders = batch(400, 5)
        ledger.ingest(orders[:2])
        ledger.ingest(orders[2:])
        by_key = sorted(orders[2:], key=lambda o: o.key, reverse=True)  # within a batch
        assert ledger.recent_orders(3) == by_key
        assert ledger.recent_orders(5)[3:] == sorted(orders[:2], key=lambda o: o.key,
                                                      reverse=True)

    def test_events_since_by_time_orders_and_watermark(self, ledger, clock):
        a, b = batch(500, 2)
        ledger.ingest([a, b])
        clock.advance(10)
        ledger.commit_decisions(decisions([a]), [])
        every = ledger.events_since()
        assert [e.stage for e in every] == ["received", "received", "validated", "scored",
                                            "routed"]
        assert [e.id for e in every] == sorted(e.id for e in every)
        later = ledger.events_since(since=NOW + timedelta(seconds=5))
        assert [e.stage for e in later] == ["validated", "scored", "routed"]
        assert ledger.events_since(until=NOW + timedelta(seconds=5)) == every[:2]
        assert [e.key for e in ledger.events_since(keys=[b.key])] == [b.key]
        assert ledger.events_since(after_id=every[2].id) == every[3:]
        assert ledger.events_since(keys=[a.key, b.key], limit=2) == every[:2]
        assert every[2].ruleset_version == 1 and every[2].version == a.modified_at

    def test_undecided_orders_wait_for_the_given_age(self, ledger, clock):
        orders = batch(600, 3)
        ledger.ingest(orders[:2])
        clock.advance(10)
        ledger.ingest(orders[2:])
        ledger.commit_decisions(decisions(orders[:1]), [])
        assert ledger.undecided_orders(5.0) == [orders[1]]
        assert ledger.undecided_orders(0.0, limit=5) == orders[1:]
        assert ledger.undecided_orders(5.0, now=clock.now() + timedelta(seconds=5)) == orders[1:]

    def test_a_new_version_of_an_order_the_wms_has_is_undecided_until_decided(self, ledger,
                                                                                clock):
        o = order(610)
        put(ledger, [o])
        ledger.record_stage([StageEvent(o.key, "dispatched", clock.now())])
        assert ledger.undecided_orders(0.0, now=clock.now()) == []
        clock.advance(10)
        changed = order(610, version=40, warehouse_hint="WH-9")
        assert ledger.ingest([changed]) == [changed]
        assert ledger.get_order(o.key).stage == "dispatched"  # the WMS has it: it stays
        assert ledger.undecided_orders(5.0, now=clock.now()) == []  # received just now
        later = clock.now() + timedelta(seconds=5)
        assert ledger.undecided_orders(5.0, now=later) == [changed]
        fresh = order(611)
        ledger.ingest([fresh])
        assert ledger.undecided_orders(0.0, now=later) == [changed, fresh]
        assert put(ledger, [changed]) == 1
        assert ledger.undecided_orders(0.0, now=later) == [fresh]

    def test_reconcile_candidates_skip_settled_orders(self, ledger, clock):
        settled, open_ = order(700, status="shipped"), order(701)
        put(ledger, [settled, open_])
        ledger.record_stage([StageEvent(settled.key, "shipped", clock.now())])
        rows = ledger.reconcile_candidates(10)
        assert rows == [{"key": open_.key, "marketplace_status": "paid", "stage": "routed"}]

    def test_a_cancelled_order_stays_a_reconcile_candidate(self, ledger, clock):
        gone = order(702, status="cancelled")
        self.decide(ledger, gone)
        assert ledger.get_order(gone.key).stage == "cancelled"
        assert ledger.reconcile_candidates(10) == [
            {"key": gone.key, "marketplace_status": "cancelled", "stage": "cancelled"}]

    def test_schema_version_is_the_latest(self, ledger):
        assert ledger.schema_version() == LATEST

    def test_rows_cross_process_boundaries(self, ledger, clock):
        o = order(800)
        put(ledger, [o])
        things = [Cursor("tmall", "s", NOW), StageEvent(o.key, "picked", NOW, {"a": 1}, "T1"),
                  *ledger.claim(5, 30, clock.now()), ledger.get_order(o.key),
                  ledger.find_orders()[0], ledger.events_since()[0]]
        assert [pickle.loads(pickle.dumps(t)) for t in things] == things


class PersistentContract:
    """For stores whose data outlives the object: reopen, refuse foreign or newer schemas."""

    def raw_execute(self, store: Any, sql: str) -> None:
        raise NotImplementedError

    def test_everything_survives_reopening(self, store, clock):
        first = self.open(store, clock)
        orders = batch(900, 10)
        first.ingest(orders, cursor=Cursor("jd", "flagship", T0))
        made = decisions(orders)
        first.commit_decisions(made, outbox(orders, made))
        first.publish_ruleset(4, "version: 4\n", "ops", clock.now())
        first.close()
        again = self.open(store, clock)
        try:
            assert again.get_cursor("jd", "flagship") == T0
            assert again.counts()["stages"] == {"routed": 10}
            assert again.get_order(orders[3].key).decision == made[3]
            assert again.get_ruleset().version == 4 and again.pending_count() == 10
            assert again.ingest(orders) == [] and again.commit_decisions(made, []) == 0
        finally:
            again.close()

    def test_a_forward_migration_applies_once_and_keeps_the_data(self, store, clock,
                                                                 monkeypatch):
        from hub.ledger import schema

        first = self.open(store, clock)
        orders = batch(950, 3)
        first.ingest(orders)
        first.close()
        step = schema.Migration(schema.LATEST + 1, "orders.note",
                                "ALTER TABLE orders ADD COLUMN note TEXT")
        monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
        monkeypatch.setattr(schema, "LATEST", step.version)
        for _ in range(2):  # the second open finds nothing to do
            again = self.open(store, clock)
            assert again.schema_version() == step.version
            assert again.recent_orders(5) == sorted(orders, key=lambda o: o.key, reverse=True)
            again.close()
        self.raw_execute(store, "UPDATE orders SET note = 'migrated'")

    def test_a_newer_schema_is_refused_with_both_versions(self, store, clock):
        self.open(store, clock).close()
        self.raw_execute(store, "INSERT INTO ledger_migrations (version, name, applied_at) "
                                "VALUES (99, 'from the future', 0)")
        with pytest.raises(SchemaError, match=rf"schema version 99, newer than the {LATEST}"):
            self.open(store, clock)

    def test_a_foreign_schema_is_refused_untouched(self, store, clock):
        self.raw_execute(store, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        with pytest.raises(SchemaError, match=r"not an OrderHub ledger .*customers"):
            self.open(store, clock)
