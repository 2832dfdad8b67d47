"""A short live rehearsal inside the suite: small window, high speed-up, real hub."""

import json

import pytest

from sim.rehearsal import RehearsalError, rehearse

pytestmark = pytest.mark.ray


def test_short_rehearsal_loses_and_doubles_nothing(ray_session, tmp_path) -> None:
    summary = rehearse("baseline-8k", window="19:00-19:10", speedup=200, out=tmp_path,
                       progress=False, warmup_s=8, timeout_s=240)
    orders = summary["orders"]
    assert orders["generated"] > 50
    assert orders["lost"] == 0
    assert orders["duplicated"] == 0
    assert orders["unexpected"] == 0
    assert orders["decided"] == orders["generated"]
    for key in ("scenario", "seed", "speedup", "window", "orders", "latency_s", "latency_wall_s",
                "anomalies", "alerts", "manual_ratio", "auto_remedied",
                "throughput_orders_per_s", "peak_backlog", "resources"):
        assert key in summary, key
    assert set(summary["latency_s"]["all"]) >= {"mean", "p50", "p95", "p99", "max"}
    assert set(summary["anomalies"]) >= {"injected", "detected", "precision", "recall",
                                         "by_reason", "detection_latency_s"}
    assert summary["alerts"]["max_per_minute"] <= 20
    pauses = summary["gc_max_pause_s"]  # every hub process reports its collector's pauses
    assert {"router", "ledger", "relay", "validators0", "scorers0"} <= set(pauses)
    assert all(isinstance(v, float) and v >= 0 for v in pauses.values())
    for puller in summary["pullers"].values():
        assert puller["pulls"] > 0
        assert set(puller["slowest_pull_parts_s"]) == {"cursor", "fetch", "ingest", "submit"}
        assert sum(puller["slowest_pull_parts_s"].values()) <= puller["max_pull_wall_s"] + 0.01
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "42 s" in page


def test_unknown_scenario_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(RehearsalError, match="no such scenario"):
        rehearse("no-such-day", out=tmp_path, progress=False)
