from collections import Counter

import pytest

from hub.domain.address import check_address
from hub.domain.anomalies import phone_ok
from sim.generator import generate
from sim.scenario import ScenarioError, load_scenario
from sim.trace import EventKind, write_trace


@pytest.fixture(scope="module")
def opening():
    scenario = load_scenario("double11-42k")
    return scenario, generate(scenario, window=("00:00", "00:30"))


def test_same_scenario_and_seed_give_the_same_trace(tmp_path, opening) -> None:
    scenario, (header, events) = opening
    again = generate(scenario, window=("00:00", "00:30"))
    write_trace(tmp_path / "a.jsonl", header, events)
    write_trace(tmp_path / "b.jsonl", *again)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    other = generate(scenario, seed=12, window=("00:00", "00:30"))
    write_trace(tmp_path / "c.jsonl", *other)
    assert (tmp_path / "c.jsonl").read_bytes() != (tmp_path / "a.jsonl").read_bytes()


def test_arrivals_follow_the_day_shape(opening) -> None:
    scenario, (_, events) = opening
    first = {e.order.key for e in events if e.order is not None}
    weights = scenario.hourly_weights
    expected = scenario.orders_per_day * weights[0] / sum(weights) / 2  # half an hour
    assert abs(len(first) - expected) < 5 * expected**0.5 + 0.02 * expected
    assert all(0 <= e.at < 1800 + 3600 for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_planted_anomalies_match_their_definitions_and_share(opening) -> None:
    scenario, (_, events) = opening
    paid = [e for e in events if e.kind == EventKind.PAID]
    planted = Counter(code for e in paid for code in e.truth)
    share = sum(planted.values()) / len(paid)
    assert abs(share - sum(scenario.anomalies.values())) < 0.02
    for e in paid:
        o, truth = e.order, set(e.truth)
        assert bool(check_address(o.receiver)) == ("incomplete_address" in truth)
        assert (not phone_ok(o.receiver.phone)) == ("invalid_phone" in truth)
        expected = o.amounts.total_fen - o.amounts.discount_fen + o.amounts.freight_fen
        assert (o.amounts.paid_fen != expected) == ("payment_mismatch" in truth)
    urgent = sum(1 for e in paid if e.order.order_type in ("live_flash", "presale_final"))
    assert 0.15 < urgent / len(paid) < 0.25


def test_duplicates_are_the_later_of_two_identical_orders(opening) -> None:
    _, (_, events) = opening
    seen = {}
    for e in (x for x in events if x.kind == EventKind.PAID):
        o = e.order
        sig = (o.buyer.id, tuple((i.sku, i.quantity) for i in o.items), o.receiver.detail)
        if "duplicate_order" in e.truth:
            assert sig in seen and seen[sig] != o.order_id
        else:
            assert sig not in seen
            seen[sig] = o.order_id


def test_every_shipped_scenario_loads_and_bad_ones_name_the_field(tmp_path) -> None:
    for name in ("baseline-8k", "double11-42k", "surge-100k", "fault-drill"):
        assert load_scenario(name).name == name
    bad = tmp_path / "bad.toml"
    text = (load_scenario("baseline-8k").source.read_text(encoding="utf-8")
            .replace("orders_per_day = 8000", 'orders_per_day = "many"'))
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.toml: orders_per_day"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("no-such-day")
