"""The domain benchmark runs end to end on a few orders and writes its figures."""

import json

from benchmarks.domain import main


def test_domain_benchmark_writes_its_figures(tmp_path) -> None:
    out = tmp_path / "domain.json"
    assert main(["--quick", "--orders", "600", "--zen-rows", "100", "--out", str(out),
                 "--no-pin"]) == 0
    figures = json.loads(out.read_text())
    assert figures["orders"] == 600
    assert figures["orders_per_s"] > 0
    assert figures["rules_vs_zen_ratio"] > 0
    assert figures["zen_agreement"] == 1.0
    assert set(figures["us_per_order"]) >= {"json", "parse", "checks", "score", "route",
                                             "total"}


def test_the_shadow_figure_alone_is_merged_into_the_other_figures(tmp_path) -> None:
    out = tmp_path / "domain.json"
    out.write_text(json.dumps({"orders_per_s": 12345}))
    assert main(["--shadow-only", "--orders", "600", "--shadow-rounds", "1", "--out",
                 str(out), "--no-pin"]) == 0
    figures = json.loads(out.read_text())
    assert figures["orders_per_s"] == 12345  # kept
    shadow = figures["shadow"]
    assert shadow["orders"] == 600 and shadow["decide_with_shadow_ratio"] > 0
    assert 0 < shadow["candidate_changed_share"] < 1  # the candidate moves some orders
