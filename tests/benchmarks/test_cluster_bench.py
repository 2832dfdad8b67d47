"""benchmarks.cluster's arithmetic: CPU per part between two samples, and the topology's
cost ratio (the runs themselves need a cluster: ``python -m benchmarks.cluster --quick``)."""

from benchmarks.cluster import HubCpu, _cost


def test_cpu_per_part_counts_a_process_born_between_samples_from_its_start() -> None:
    before = {1: ("router", 10.0), 2: ("pools", 4.0), 3: ("pullers", 1.0)}
    after = {1: ("router", 12.5), 2: ("pools", 5.0), 4: ("pools", 0.75)}  # 3 gone, 4 new
    assert HubCpu.used(before, after) == {"router": 2.5, "pools": 1.75}


def test_the_topology_cost_is_two_nodes_over_one() -> None:
    runs = [{"nodes": 1, "per_order_cpu_s": {"total": 0.002}},
            {"nodes": 2, "per_order_cpu_s": {"total": 0.003}}]
    assert _cost(runs) == {"two_over_one_node_cpu_per_order": 1.5}
    assert _cost(runs[:1]) is None
