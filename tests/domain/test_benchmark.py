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
