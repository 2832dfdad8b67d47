"""Short live rehearsals inside the suite: small window, high speed-up, real hub. The
verdict comes from outside (the trace and the emulators' records) and every figure can
fail: against hubs broken on purpose (tests/sim/broken_hubs.py) the matching figure is
non-zero and the command exits 1."""

import argparse
import json
import re
from pathlib import Path

import pytest

from sim.rehearsal import RehearsalError, rehearse
from sim.scenario import SCENARIOS
from sim.verdict import HARD_FIGURES, failures
from tests.sim.broken_hubs import HUBS

pytestmark = pytest.mark.ray


def test_short_rehearsal_is_judged_clean_from_outside(ray_session, tmp_path) -> None:
    summary = rehearse("baseline-8k", window="19:00-19:10", speedup=200, out=tmp_path,
                       progress=False, warmup_s=8, timeout_s=240)
    verdict = summary["verdict"]
    assert verdict["orders"]["generated"] > 50
    assert {name: verdict[name] for name in HARD_FIGURES} == dict.fromkeys(HARD_FIGURES, 0)
    assert verdict["alerts_refused"] == 0
    assert verdict["held_clean"]["count"] == 0
    assert verdict["orders"]["shipped"] >= verdict["orders"]["owed"] - \
        summary["anomalies"]["planted"] - verdict["orders"]["owed"] // 50
    assert summary["anomalies"]["precision"] >= 0.99
    assert summary["anomalies"]["recall"] >= 0.99
    assert summary["follow"]["complete"] is True
    assert verdict["on_time"]["lane"]["all"]["share"] >= 0.99
    delay = summary["latency_to_wms_s"]["all"]
    assert 0 < delay["mean"] <= delay["p99"] <= delay["max"]
    assert delay["mean"] <= summary["latency_to_wms_strict_s"]["all"]["mean"]
    opinion = summary["ledger_opinion"]  # the ledger's second opinion agrees
    assert (opinion["lost"], opinion["duplicated"], opinion["unexpected"]) == (0, 0, 0)
    assert summary["orders"]["decided"] == summary["orders"]["generated"]
    assert summary["alerts"]["max_per_minute"] <= 20
    pauses = summary["gc_max_pause_s"]  # every hub process reports its collector's pauses
    assert {"router", "ledger", "relay", "validators0", "scorers0"} <= set(pauses)
    assert all(isinstance(v, float) and v >= 0 for v in pauses.values())
    for puller in summary["pullers"].values():
        assert puller["pulls"] > 0
        assert set(puller["slowest_pull_parts_s"]) == {"cursor", "fetch", "ingest", "submit"}
        assert sum(puller["slowest_pull_parts_s"].values()) <= puller["max_pull_wall_s"] + 0.01
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert (tmp_path / "records" / "wms.json").exists()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "42 s" in page and "5.6%" in page
    assert 'data-i18n="verdict"' in page and "<details>" in page


def test_unknown_scenario_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(RehearsalError, match="no such scenario"):
        rehearse("no-such-day", out=tmp_path, progress=False)


def _drill(folder: Path) -> Path:
    """baseline-8k with many anomalies and cancellations, so a short window has enough."""
    text = (SCENARIOS / "baseline-8k.toml").read_text(encoding="utf-8")
    for old, new in (('name = "baseline-8k"', 'name = "broken-drill"'),
                     ("cancel = 0.01", "cancel = 0.30"),
                     ("incomplete_address = 0.025", "incomplete_address = 0.10")):
        assert old in text, old
        text = text.replace(old, new)
    text = re.sub(r"orders_per_day = \d+", "orders_per_day = 16000", text)
    path = folder / "broken-drill.toml"
    path.write_text(text, encoding="utf-8")
    return path


CASES = {  # broken hub -> the verdict figure it must move
    "resends_dispatch": lambda s: s["verdict"]["shipped_twice"],
    "misses_incomplete_address": lambda s: s["anomalies"]["recall"] < 0.99,
    "ignores_rate_limit": lambda s: s["verdict"]["alerts_refused"],
    "ignores_cancellations": lambda s: s["verdict"]["avoidable_shipped_after_cancel"],
}


@pytest.mark.parametrize("fault", list(CASES))
def test_a_broken_hub_moves_its_figure_and_fails_the_command(ray_session, tmp_path, fault,
                                                              monkeypatch) -> None:
    scenario = _drill(tmp_path)
    summary = rehearse(str(scenario), window="19:00-19:10", speedup=200,
                       out=tmp_path / "run", progress=False, warmup_s=8, timeout_s=120,
                       hub_factory=HUBS[fault])
    assert CASES[fault](summary), json.dumps(summary["verdict"], indent=1)[:3000]
    assert failures({**summary["verdict"], "anomalies": summary["anomalies"]})
    from hub.commands import rehearse as command

    monkeypatch.setattr("sim.rehearsal.rehearse", lambda *a, **k: summary)
    args = argparse.Namespace(scenario=str(scenario), speedup=None, window=None, seed=None,
                              out=tmp_path / "again", push=False, interval=None, port=0,
                              timeout=1.0, no_progress=True, compare=None)
    assert command.rehearse(args) == 1
