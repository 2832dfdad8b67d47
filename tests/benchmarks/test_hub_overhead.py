"""The hub benchmark's overhead ratio and idle cost, from a result's figures."""

from benchmarks.hub_overhead import idle_cost, overhead


def _step(rate: int, sustained: bool, ms: dict[str, float]) -> dict:
    return {"rate": rate, "sustained": sustained, "cpu_ms_per_order": ms,
            "hub_cpu_ms_per_order": sum(v for k, v in ms.items()
                                        if k not in ("emulators", "py-spy", "exited"))}


def test_the_ratio_is_taken_at_the_highest_rate_held_over_the_median_useful_work() -> None:
    results = {"pull": {"steps": [
        _step(500, True, {"Router": 0.3, "LedgerService": 0.2, "emulators": 0.9}),
        _step(1000, True, {"Router": 0.2, "LedgerService": 0.1, "exited": 0.5}),
        _step(2000, False, {"Router": 0.05, "LedgerService": 0.05})]}}
    work = [{"domain_us": 40.0, "ledger_us": 60.0}, {"domain_us": 60.0, "ledger_us": 90.0},
            {"domain_us": 50.0, "ledger_us": 50.0}]
    got = overhead(results, work)
    assert (got["rate"], got["held"], got["mode"]) == (1000, True, "pull")
    assert got["hub_cpu_us_per_order"] == 300.0  # emulators and exited processes left out
    assert (got["domain_us_per_order"], got["ledger_us_per_order"]) == (50.0, 60.0)
    assert got["overhead_ratio"] == round(300 / 110, 2) and not got["target_met"]
    assert got["by_mode"]["pull"]["hub_parts_us"] == {"Router": 200.0, "LedgerService": 100.0}


def test_with_no_step_held_the_highest_step_run_is_reported_as_not_held() -> None:
    results = {"push": {"steps": [_step(1000, False, {"Router": 0.15})]}}
    got = overhead(results, [{"domain_us": 50.0, "ledger_us": 50.0}])
    assert (got["rate"], got["held"], got["overhead_ratio"]) == (1000, False, 1.5)
    assert got["target_met"] is False


def test_idle_cost_counts_every_hub_process_and_shows_rays_own_apart() -> None:
    got = idle_cost({"cpu_pct": {"ray system": 3.0, "ray worker (idle)": 1.0, "Router": 2.0,
                                 "driver (hub API)": 1.0, "emulators": 9.0, "py-spy": 5.0}})
    assert got["idle_cpu_cores"] == 0.07
    assert got["ray_daemons_and_idle_workers_cores"] == 0.04
    assert got["hub_processes_cores"] == 0.03
    assert got["target_met"] is True
