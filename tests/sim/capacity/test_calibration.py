"""The old flow's parameters fitted to the case's old row, by the documented search."""

from __future__ import annotations

import pytest

from sim.capacity import calibrate
from sim.capacity.day import build_day
from sim.capacity.flow import Setup
from sim.capacity.params import hub_perf, load_set
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def double11():
    scenario = load_scenario("double11-42k")
    # a quarter of the day, every capacity scaled with it (the sampled fast path)
    return scenario, build_day(scenario, scenario.seed, window=("00:00", "24:00"), sample=0.25)


def test_the_fit_reproduces_the_case_old_row_within_10_percent(double11) -> None:
    scenario, day = double11
    fitted = calibrate.fit(day, Setup(load_set("old_flow"), scenario.warehouse), hub_perf(),
                           scenario.seed)
    assert set(fitted["figures"]) == {"sync_delay_s", "detection_s", "person_share",
                                      "complaint_rate"}
    assert fitted["figures"]["sync_delay_s"]["target"] == 540.0
    for name, figure in fitted["figures"].items():
        assert figure["relative_error"] <= 0.10, (name, figure)
    for name, parameter in fitted["parameters"].items():
        low, high = parameter["bounds"]
        assert low < parameter["value"] < high, (name, parameter)
        assert parameter["plausible"]
    assert fitted["within_10pct"]


def test_the_unfitted_start_does_not_reproduce_the_row(double11) -> None:
    # the fit is what makes the figures agree: the set's starting values miss by far
    scenario, day = double11
    setup = Setup(load_set("old_flow"), scenario.warehouse)
    start = {k: float(v) for k, v in setup.params["fitted"].items()}
    figures = calibrate.evaluate(day, setup, hub_perf(), scenario.seed, start)
    errors = {name: abs(calibrate.figure(figures, name) - target) / target
              for name, (target, _new, _path) in calibrate.TARGETS.items()}
    assert max(errors.values()) > 0.10, errors


def test_the_same_day_and_seed_fit_the_same_values(double11) -> None:
    scenario, _day = double11
    small = build_day(scenario, 3, window=("00:00", "06:00"), sample=0.2)
    one = calibrate.fit(small, Setup(load_set("old_flow"), scenario.warehouse), hub_perf(), 3)
    two = calibrate.fit(small, Setup(load_set("old_flow"), scenario.warehouse), hub_perf(), 3)
    assert one == two
