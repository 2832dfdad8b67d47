"""The hub's figures come from the benchmark results: hub.json, and cluster.json's
per-order CPU when a cluster benchmark wrote one."""

from __future__ import annotations

import json
import shutil

from sim.capacity.params import RESULTS, hub_perf


def test_the_hub_figures_are_the_measured_ones() -> None:
    perf = hub_perf()
    hub = json.loads((RESULTS / "hub.json").read_text(encoding="utf-8"))
    assert perf.sustained_per_s == hub["modes"]["pull"]["max_sustained_orders_per_s"]
    assert perf.source == "benchmarks/results/hub.json" or "cluster.json" in perf.source
    assert 0 < perf.cpu_s_per_order < 0.01 and 0 < perf.latency_s < 5
    assert perf.cores_needed(1.0) == 1


def test_a_cluster_benchmarks_per_order_cpu_sets_the_cores_needed(tmp_path) -> None:
    shutil.copy(RESULTS / "hub.json", tmp_path / "hub.json")
    light = hub_perf(tmp_path)
    (tmp_path / "cluster.json").write_text(json.dumps(
        {"cpu_us_per_order_by_part": {"ingest": 2000.0, "decide": 3000.0, "emulators": 900.0}}))
    heavy = hub_perf(tmp_path)
    assert heavy.cpu_s_per_order == 0.005 and "cluster.json" in heavy.source
    # 5 ms an order: a core decides 200 a second, 140 at 70%
    assert heavy.cores_needed(1000.0) == 8
    assert light.cores_needed(1000.0) < heavy.cores_needed(1000.0)
