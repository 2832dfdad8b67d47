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


def _cluster_run(nodes: int, total_s: float) -> dict:
    return {"nodes": nodes, "per_order_cpu_s": {"total": total_s, "by_part": {}}}


def test_the_cluster_benchmarks_cpu_on_the_most_nodes_sizes_the_ray_nodes(tmp_path) -> None:
    shutil.copy(RESULTS / "hub.json", tmp_path / "hub.json")
    alone = hub_perf(tmp_path)
    assert alone.nodes_needed(1000.0) is None and alone.cluster_source is None
    (tmp_path / "cluster.json").write_text(json.dumps(
        {"runs": [_cluster_run(1, 0.002), _cluster_run(2, 0.004)]}))
    perf = hub_perf(tmp_path)
    assert perf.cluster_cpu_s_per_order == 0.004 and "2 nodes" in perf.cluster_source
    # 4 ms an order at 70%: 1,000 orders/s is 5.7 cores of work, one 8-core node
    assert perf.nodes_needed(1000.0, cores_per_node=8) == 1
    assert perf.nodes_needed(1500.0, cores_per_node=8) == 2
    assert perf.nodes_needed(1500.0, cores_per_node=2) == 5
    assert perf.cpu_s_per_order == alone.cpu_s_per_order  # cores come from hub.json


def test_the_committed_cluster_figures_size_a_day() -> None:
    cluster = json.loads((RESULTS / "cluster.json").read_text(encoding="utf-8"))
    perf = hub_perf()
    most = max(cluster["runs"], key=lambda r: r["nodes"])
    assert perf.cluster_cpu_s_per_order == most["per_order_cpu_s"]["total"]
    assert perf.nodes_needed(50.0) >= 1
