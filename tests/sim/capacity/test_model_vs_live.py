"""The hub's parameter set against live rehearsals: the committed double11-42k one, and
a short rehearsal run here through the real hub."""

from __future__ import annotations

import copy
import os

import pytest

from sim.capacity.live import FIGURES, LIVE, compare, read_live
from sim.capacity.params import hub_perf

JUDGED = ("delay_to_wms_mean_s", "delay_to_wms_p99_s", "p0_on_time_share")  # the issue's
ALSO = ("on_time_share_all", "person_share", "p1_on_time_share", "p2_on_time_share",
        "p3_on_time_share")  # on time by lane and the share needing a person


def test_the_committed_double11_rehearsal_is_predicted_within_10_percent() -> None:
    live, source = read_live(LIVE)
    assert live["scenario"] == "double11-42k" and live["pull_interval_s"] == 30
    result = compare(live, hub_perf(), source=source)
    assert [k for k, v in FIGURES.items() if v[2]] == [*JUDGED, *ALSO]
    for name in (*JUDGED, *ALSO):
        row = result["figures"][name]
        assert row["relative_error"] is not None and row["relative_error"] <= 0.10, (name, row)
    assert result["within_10pct"]


def test_a_measurement_the_model_does_not_explain_fails_the_comparison() -> None:
    live, source = read_live(LIVE)
    slower = copy.deepcopy(live)
    slower["latency_to_wms_s"]["all"]["mean"] *= 1.5  # as if the hub took 7 s more
    result = compare(slower, hub_perf(), source=source)
    assert result["figures"]["delay_to_wms_mean_s"]["relative_error"] > 0.10
    assert not result["within_10pct"]


@pytest.mark.ray
@pytest.mark.soak
def test_a_short_live_rehearsal_agrees_with_the_model(ray_session, tmp_path, capsys) -> None:
    from sim.rehearsal import rehearse

    # the model's hub latency is the benchmark's (a quiet machine); a machine running
    # many times more work than it has cores slows the live hub's wall-clock work
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 3 * cores:
        pytest.skip(f"load average {load:.0f} on {cores} cores: a live measurement now "
                    "measures the machine (the committed rehearsal is checked above)")
    # the day starts 90 s after the call, so that a hub slow to start on a busy machine
    # is ready before the first pull (a late hub adds its delay x the speed-up to every
    # early order: then the run measured the machine, not the hub, and says so)
    summary = rehearse("baseline-8k", window="19:00-19:10", speedup=100, out=tmp_path,
                       progress=False, warmup_s=90.0)
    if "the hub was ready" in capsys.readouterr().out:
        pytest.skip("the hub started after the rehearsal's day began (machine overloaded)")
    assert summary["latency_to_wms_s"]["all"]["n"] > 50
    result = compare(summary, hub_perf(), source=str(tmp_path / "summary.json"))
    assert result["window"] == "19:00-19:10"
    for name in JUDGED:
        row = result["figures"][name]
        assert row["relative_error"] is not None and row["relative_error"] <= 0.10, (name, row)
