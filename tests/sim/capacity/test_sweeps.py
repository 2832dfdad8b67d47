"""Sweep points: staffing grows with volume, the first bottleneck is named, a very
large day runs as a sampled day, bad sweeps are clear errors."""

from __future__ import annotations

import pytest

from sim.capacity import sweeps
from sim.capacity.flow import Setup
from sim.capacity.params import CapacityError, costs, hub_perf, load_set
from sim.scenario import load_scenario


@pytest.mark.parametrize("text, message", [
    ("volume", "expected NAME=V1,V2"),
    ("weather=1,2", "NAME one of"),
    ("volume=10k", "'10k' is not a float"),
    ("clerks=0", "more than zero"),
    ("shifts=siesta", "unknown pattern 'siesta'"),
])
def test_bad_sweeps_are_refused_with_the_reason(text, message) -> None:
    with pytest.raises(CapacityError, match=message):
        sweeps.parse(text)


def test_more_orders_need_more_staff_and_a_huge_day_is_sampled() -> None:
    scenario = load_scenario("double11-42k")
    hub = Setup(load_set("hub"), scenario.warehouse)
    old = Setup(load_set("old_flow") | {"fitted": {
        "export_interval_s": 860.0, "patrol_interval_s": 13000.0, "expedite_share": 0.87,
        "complain_share": 0.9}}, scenario.warehouse)
    out = sweeps.sweep(scenario, hub, old, hub_perf(), 11, costs(),
                       [("volume", [8000.0, 200000.0])])["volume"]
    small, big = out
    assert small["sampled"] is None and big["sampled"] is not None
    assert abs(big["orders"] - 200000 * 0.98) < 4000  # 2% never paid
    assert big["staff_for_p0_99"]["packers"] > 3 * small["staff_for_p0_99"]["packers"]
    assert big["staff_for_p0_99"]["clerks"] > small["staff_for_p0_99"]["clerks"]
    first = big["hub"]["saturation"]["first"]
    assert first["resource"].startswith("packing:") and 0 <= first["hour"] < 24
    assert first["utilisation"] >= 1
    assert big["hub"]["on_time"]["P0"]["share"] < small["hub"]["on_time"]["P0"]["share"]


def test_more_packers_hold_more_orders_on_time() -> None:
    scenario = load_scenario("baseline-8k")
    hub = Setup(load_set("hub"), scenario.warehouse)
    old = Setup(load_set("old_flow") | {"fitted": {
        "export_interval_s": 860.0, "patrol_interval_s": 13000.0, "expedite_share": 0.87,
        "complain_share": 0.9}}, scenario.warehouse)
    out = sweeps.sweep(scenario, hub, old, hub_perf(), 11, costs(),
                       [("packers", [0.05, 1.0])])["packers"]
    assert out[0]["hub"]["on_time"]["all"]["share"] < out[1]["hub"]["on_time"]["all"]["share"]
    assert out[0]["hub"]["late"] > out[1]["hub"]["late"]
