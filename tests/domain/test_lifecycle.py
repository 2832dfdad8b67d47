"""The order lifecycle on the ``Stage`` enum (hub.domain.lifecycle), the outbox's retry
delay, and the stage-duration statistics behind the ETA."""

import pytest

from hub.domain import Stage, backoff_s, decision_stage, moves, stage_durations
from hub.domain.lifecycle import PHASE, STAGES, WAREHOUSE

BEFORE_WMS = (Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED, Stage.ROUTED, Stage.HELD,
              Stage.AUTO_REMEDIED, Stage.RELEASED)


def test_every_stage_is_known_and_has_a_phase_but_the_anomaly_stages() -> None:
    assert set(STAGES) == set(Stage)
    assert set(PHASE) == set(Stage) - {Stage.RECONCILE_MISMATCH, Stage.INTERCEPT_TOO_LATE,
                                       Stage.SHIPPED_AFTER_CANCEL}
    assert WAREHOUSE == (Stage.PICKED, Stage.PACKED, Stage.SHIPPED)


@pytest.mark.parametrize("current", BEFORE_WMS)
def test_before_the_warehouse_any_event_moves_the_stage(current: Stage) -> None:
    assert moves(current, Stage.RECEIVED)  # a new version is decided again
    assert moves(current, Stage.DISPATCHED)


def test_once_the_wms_has_it_the_stage_only_moves_forward() -> None:
    assert not moves(Stage.PACKED, Stage.PICKED)
    assert not moves(Stage.DISPATCHED, Stage.RECEIVED)
    assert moves(Stage.PICKED, Stage.PACKED)
    assert moves(Stage.PACKED, Stage.PACKED)


def test_a_cancellation_and_a_mismatch_always_show_and_a_mismatch_is_cleared() -> None:
    assert moves(Stage.SHIPPED, Stage.CANCELLED)
    assert moves(Stage.SHIPPED, Stage.RECONCILE_MISMATCH)
    assert moves(Stage.RECONCILE_MISMATCH, Stage.PICKED)


def test_stored_plain_strings_mean_the_same_as_members() -> None:
    assert moves("packed", "picked") is moves(Stage.PACKED, Stage.PICKED) is False
    assert decision_stage("invalid_phone", ()) == "held"


@pytest.mark.parametrize(("hold", "remedies", "stage"), [
    ("invalid_phone", ("delivery->express",), Stage.HELD),
    (None, ("delivery->express",), Stage.AUTO_REMEDIED),
    (None, (), Stage.ROUTED),
])
def test_a_decision_puts_its_order_in_one_stage(hold, remedies, stage) -> None:
    assert decision_stage(hold, remedies) is stage


def test_the_retry_delay_doubles_from_one_second_up_to_five_minutes() -> None:
    assert [backoff_s(n) for n in (0, 1, 2, 3, 9, 10, 50)] == \
        [1.0, 1.0, 2.0, 4.0, 256.0, 300.0, 300.0]


def test_durations_are_per_lane_and_only_between_steps_of_one_order() -> None:
    rows = [(1, "P0", "received", 0.0), (1, "P0", "routed", 2.0),
            (2, "P1", "received", 5.0), (2, "P1", "routed", 6.0), (2, "P1", "shipped", 16.0),
            (3, None, "received", 20.0)]
    got = {(r["lane"], r["from"], r["to"]): (r["n"], r["max_s"]) for r in stage_durations(rows)}
    assert got == {("P0", "received", "routed"): (1, 2.0),
                   ("P1", "received", "routed"): (1, 1.0),
                   ("P1", "routed", "shipped"): (1, 10.0)}


@pytest.mark.parametrize("current", [*BEFORE_WMS, Stage.DISPATCHED, Stage.PICKED])
def test_an_interception_is_final_like_a_cancellation(current: Stage) -> None:
    assert moves(current, Stage.INTERCEPTED)
    for later in (Stage.RECEIVED, Stage.ROUTED, Stage.PICKED, Stage.PACKED, Stage.SHIPPED,
                  Stage.DISPATCHED, Stage.AMENDED):
        assert not moves(Stage.INTERCEPTED, later), later
    assert moves(Stage.INTERCEPTED, Stage.CANCELLED)


@pytest.mark.parametrize("current", [*BEFORE_WMS, Stage.DISPATCHED, Stage.PICKED,
                                     Stage.PACKED, Stage.SHIPPED, Stage.CANCELLED])
def test_an_amendment_is_recorded_but_never_the_current_stage(current: Stage) -> None:
    assert not moves(current, Stage.AMENDED)


def test_an_intercept_too_late_shows_until_the_order_is_stopped() -> None:
    for current in (Stage.DISPATCHED, Stage.PICKED, Stage.PACKED, Stage.SHIPPED):
        assert moves(current, Stage.INTERCEPT_TOO_LATE)
    for later in (Stage.PACKED, Stage.SHIPPED, Stage.RECEIVED, Stage.ROUTED,
                  Stage.RECONCILE_MISMATCH, Stage.AMENDED):
        assert not moves(Stage.INTERCEPT_TOO_LATE, later), later
    assert moves(Stage.INTERCEPT_TOO_LATE, Stage.INTERCEPTED)
    assert moves(Stage.INTERCEPT_TOO_LATE, Stage.CANCELLED)
