"""The shadow run (hub.app.shadow): a candidate rule set decides beside the live one and
only counts what would differ, in per-minute buckets with capped examples."""

from __future__ import annotations

from datetime import timedelta

from hub.app.shadow import LocalShadow, ShadowRun
from hub.clock import ManualClock
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset, load_ruleset
from tests.app.shadow_cases import candidate_text, mixed_orders
from tests.factories import T0


def test_the_candidate_counts_what_it_would_change_and_shows_examples():
    clock = ManualClock(T0)
    shadow = LocalShadow(clock)
    live = default_ruleset()
    shadow.start_shadow(7, 2, candidate_text())
    orders, moved, held = mixed_orders()
    shadow.observe_orders(orders, live)
    report = shadow.shadow_report(15)
    assert (report.running, report.draft, report.version, report.batches, report.orders) == (
        True, 7, 2, 1, len(orders))
    assert report.changed == {"lane": 0, "packing_group": moved, "hold": held,
                              "any": moved + held}
    first = report.examples[0]
    assert (first.before.packing_group, first.after.packing_group, first.rules_fired) == (
        "live-new-buyer", "live-gift-bench", ("live-gift-bench",))
    assert len(report.examples) == 5  # capped per minute
    # what it reports is what the candidate decides on its own
    alone = decide(orders, {}, [], load_ruleset(candidate_text()))
    assert sum(d.packing_group == "live-gift-bench" for d in alone) == moved


def test_the_window_keeps_minutes_apart_and_a_stopped_run_keeps_its_figures():
    clock = ManualClock(T0)
    shadow = LocalShadow(clock)
    shadow.start_shadow(1, 2, candidate_text())
    orders, moved, held = mixed_orders()
    shadow.observe_orders(orders, default_ruleset())
    clock.advance(10 * 60)
    shadow.observe_orders(orders, default_ruleset())
    assert shadow.shadow_report(5).batches == 1
    assert shadow.shadow_report(15).batches == 2
    assert shadow.shadow_report(15).changed["any"] == 2 * (moved + held)
    shadow.stop_shadow()
    shadow.observe_orders(orders, default_ruleset())  # stopped: not observed
    stopped = shadow.shadow_report(15)
    assert (stopped.running, stopped.batches) == (False, 2)


def test_the_same_rules_change_nothing_and_a_failure_never_reaches_the_live_path():
    live = default_ruleset()
    run = ShadowRun(1, live, T0)
    orders, _, _ = mixed_orders()
    decisions = decide(orders, {}, [], live)
    scores = [(None,)] * len(orders)  # not scores: the shadow run fails on them
    run.observe(orders, [()] * len(orders), scores, decisions, live, T0)
    assert run.errors == 1 and run.report(5, T0).batches == 0
    shadow = LocalShadow(ManualClock(T0))
    shadow.start_shadow(1, 1, live.text)
    shadow.observe_orders(orders, live)
    assert shadow.shadow_report(5).changed["any"] == 0


def test_a_candidate_with_other_weights_scores_the_batch_again():
    live = default_ruleset()
    lanes_only = live.text.replace("version: 1\n", "version: 2\n", 1).replace(
        "lanes: {P0: 80, P1: 60, P2: 40}", "lanes: {P0: 30, P1: 20, P2: 10}")
    shadow = LocalShadow(ManualClock(T0 + timedelta(hours=1)))
    shadow.start_shadow(3, 2, lanes_only)
    orders, _, _ = mixed_orders()
    shadow.observe_orders(orders, live)
    report = shadow.shadow_report(5)
    expected = decide(orders, {}, [], load_ruleset(lanes_only))
    before = decide(orders, {}, [], live)
    assert report.changed["lane"] == sum(a.lane != b.lane for a, b in
                                         zip(before, expected, strict=True)) > 0
