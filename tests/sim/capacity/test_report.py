"""The command's outputs: summary.json's keys, the zh/en report with its plots inlined
and written as PNG, and the same bytes for the same inputs and seed."""

from __future__ import annotations

import json

import pytest

from sim.capacity.run import capacity
from sim.scenario import load_scenario

SMALL = dict(sweep_args=["volume=3000,9000", "interval=30,120"], calibration_sample=0.1,
             progress=False)


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    scenario = load_scenario("baseline-8k")
    outs = [tmp_path_factory.mktemp(f"run{n}") for n in (1, 2)]
    results = [capacity(scenario, out=out, seed=5, **SMALL) for out in outs]
    return outs, results


def test_same_inputs_and_seed_give_the_same_bytes(twice) -> None:
    (one, two), _ = twice
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert {"summary.json", "capacity.html", "calibration.png", "volume_staff.png"} <= set(names)
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_a_different_seed_gives_a_different_day(twice, tmp_path) -> None:
    (one, _two), _ = twice
    capacity(load_scenario("baseline-8k"), out=tmp_path, seed=6, **SMALL)
    assert (tmp_path / "summary.json").read_bytes() != (one / "summary.json").read_bytes()


def test_summary_has_calibration_model_vs_live_and_sweeps(twice) -> None:
    (one, _), (result, _) = twice
    summary = json.loads((one / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(result))
    figures = summary["calibration"]["figures"]
    assert {k: v["target"] for k, v in figures.items()} == {
        "sync_delay_s": 540.0, "detection_s": 7560.0, "person_share": 0.34,
        "complaint_rate": 0.056}
    assert all("fitted" in v and "relative_error" in v for v in figures.values())
    assert set(summary["model_vs_live"]["figures"]) >= {"delay_to_wms_mean_s",
                                                        "delay_to_wms_p99_s", "p0_on_time_share"}
    assert [p["value"] for p in summary["sweeps"]["volume"]] == [3000, 9000]
    assert [p["value"] for p in summary["sweeps"]["interval"]] == [30, 120]
    slow, fast = summary["sweeps"]["interval"][1], summary["sweeps"]["interval"][0]
    assert slow["hub"]["delay_to_wms_s"]["mean"] > 3 * fast["hub"]["delay_to_wms_s"]["mean"]
    for point in summary["sweeps"]["volume"]:
        assert set(point["hub"]["on_time"]) == {"P0", "P1", "P2", "P3", "all"}
        assert point["staff_for_p0_99"]["packers"] > 0
        assert point["hub_cores_needed"] >= 1
        assert point["ray_nodes_needed"] >= 1  # from the committed cluster.json
        assert {"cost_avoided_cny", "hours_saved"} <= set(point["business"])


def test_the_report_is_in_chinese_and_english_with_plots_inlined(twice) -> None:
    (one, _), _ = twice
    page = (one / "capacity.html").read_text(encoding="utf-8")
    assert page.index("一屏结论") < page.index("校准(旧流程)")  # the summary comes first
    assert "On one screen" in page and 'lang="en"' in page and 'lang="zh"' in page
    assert page.count("data:image/png;base64,") == len(list(one.glob("*.png")))
