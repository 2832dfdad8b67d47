"""The design's throughput bound: its arithmetic, where it reads the emulators' cost,
and one small measuring run on the shared Ray (a real actor takes the batches)."""

import json

import pytest

from benchmarks.hub_bound import RECEIVES, SENDS, bound, emulators_us, main, measure


def test_the_bound_counts_three_sends_and_four_receives_an_order() -> None:
    cross = {"send_first_us": 40.0, "send_us": 10.0, "receive_us": 25.0}
    got = bound(cross, domain=30.0, ledger=20.0, emulators=50.0, cores=2)
    assert (SENDS, RECEIVES) == (3, 4)
    assert got["crossings_us"] == 40.0 + 2 * 10.0 + 4 * 25.0
    assert got["us_per_order"] == 160.0 + 30.0 + 20.0 + 50.0
    assert got["orders_per_s"] == round(2 * 1e6 / 260.0)


def test_the_emulators_cost_is_their_least_an_order_in_the_hub_run(tmp_path) -> None:
    hub = {"modes": {
        "push": {"steps": [{"rate": 1000, "cpu_ms_per_order": {"emulators": 0.3}},
                           {"rate": 2000, "cpu_ms_per_order": {"emulators": 0.2}}]},
        "pull": {"steps": [{"rate": 2000, "cpu_ms_per_order": {"emulators": 0.125}},
                           {"rate": 3000, "cpu_ms_per_order": {"emulators": 0.15}}]}}}
    path = tmp_path / "hub.json"
    path.write_text(json.dumps(hub))
    assert emulators_us(path) == {"us": 125.0, "source": str(path), "mode": "pull",
                                  "rate": 2000}
    assert emulators_us(tmp_path / "missing.json") is None
    path.write_text("{not json")
    assert emulators_us(path) is None
    path.write_text(json.dumps({"modes": {"push": {"steps": []}}}))
    assert emulators_us(path) is None


def test_fewer_orders_than_one_batch_are_refused(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--orders", "999"])
    assert stopped.value.code == 2
    assert "--orders must be at least 1000" in capsys.readouterr().err


@pytest.mark.ray
def test_one_small_measuring_run_gives_every_part_and_bound(ray_session) -> None:
    result = measure(1000)
    for form in ("order", "tuple"):
        assert set(result["crossing_us"][form]) == {"send_first_us", "send_us", "receive_us"}
        assert all(v > 0 for v in result["crossing_us"][form].values()), result
    assert result["domain_us"] > 0 and result["ledger_us"] > 0
    assert set(result["bounds"]) == {"order", "order, emulators free", "tuple",
                                     "tuple, emulators free"}
    for name, b in result["bounds"].items():
        expected = result["cores"] * 1e6 / b["us_per_order"]  # us_per_order is rounded
        assert b["orders_per_s"] == pytest.approx(expected, rel=1e-3), name
    free = result["bounds"]["order, emulators free"]["us_per_order"]
    emu = result["emulators"]["us"] if result["emulators"] else 0.0
    assert result["bounds"]["order"]["us_per_order"] == pytest.approx(free + emu, abs=0.2)
