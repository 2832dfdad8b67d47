from collections import Counter
from datetime import timedelta

from sim.measure import Outcome, summarise
from tests.factories import T0


def _out(received: float, decided: float, lane: str = "P1", anomalies=(), held=False):
    return Outcome(received_at=T0 + timedelta(seconds=received),
                   decided_at=T0 + timedelta(seconds=decided), lane=lane,
                   anomalies=tuple(anomalies), held=held,
                   decisions_per_version=Counter({"v1": 1}))


def test_latency_counts_the_wait_in_business_time_and_processing_unscaled() -> None:
    created = {("tmall", "s", "1"): T0, ("tmall", "s", "2"): T0}
    outcomes = {("tmall", "s", "1"): _out(20, 80),  # waits 20 s; 60 business s = 1 wall s
                ("tmall", "s", "2"): _out(10, 10, lane="P0")}
    summary, _ = summarise(created, {}, outcomes, speedup=60, origin=T0)
    assert summary["latency_to_decision_s"]["P1"]["mean"] == 21.0
    assert summary["latency_to_decision_s"]["P0"]["mean"] == 10.0
    assert summary["latency_to_decision_s"]["all"]["max"] == 21.0
    # on the run's own clock: 20/60 s waiting + 1 s processing, and 10/60 s + 0 s
    assert summary["latency_to_decision_wall_s"]["max"] == round(20 / 60 + 1, 3)
    assert summary["latency_to_decision_wall_s"]["mean"] == round((20 / 60 + 1 + 10 / 60) / 2, 3)
    assert summary["orders"] == {"generated": 2, "ingested": 2, "decided": 2, "shipped": 0}
    assert summary["ledger_opinion"]["lost"] == summary["ledger_opinion"]["duplicated"] == 0


def test_latency_runs_from_creation_to_the_first_decision_on_any_version(tmp_path) -> None:
    """Version 1 is pulled 30 s after creation; version 2 (paid) comes in before the
    hub decides, and the decision is on it. The wait ends at the first pull; what
    follows is the hub's processing, counted unscaled (60 business s = 1 wall s)."""
    from hub.ledger import open_ledger
    from sim.rehearsal import _outcomes
    from tests.ledger.factory import decision, order

    ledger = open_ledger(str(tmp_path / "ledger.sqlite3"))
    first, paid = order(1, version=0), order(1, version=20)
    made = first.created_at
    ledger.ingest([first], at=made + timedelta(seconds=30))
    ledger.ingest([paid], at=made + timedelta(seconds=60))
    ledger.commit_decisions([decision(paid)], [], at=made + timedelta(seconds=90))
    outcomes = _outcomes(ledger, [first.key])
    ledger.close()
    out = outcomes[first.key]
    assert out.received_at == made + timedelta(seconds=30)
    assert out.decided_at == made + timedelta(seconds=90)
    summary, _ = summarise({first.key: made}, {}, outcomes, speedup=60, origin=made)
    assert summary["latency_to_decision_s"]["all"]["mean"] == 31.0  # 30 s waiting + 1 s processing
    assert summary["latency_to_decision_parts_s"]["wait_for_pull"]["mean"] == 30.0
    assert summary["latency_to_decision_strict_s"]["mean"] == 31.0  # no pull schedule: the same
    assert summary["ledger_opinion"]["duplicated"] == 0


def test_the_ledgers_opinion_lost_duplicated_unexpected_and_anomaly_scores() -> None:
    k = [("jd", "s", str(i)) for i in range(4)]
    created = {key: T0 for key in k[:3]}
    truth = {k[0]: ["invalid_phone"], k[1]: ["duplicate_order"]}
    doubled = _out(1, 2, anomalies=["invalid_phone"], held=True)
    doubled.decisions_per_version = Counter({"v1": 2})
    outcomes = {k[0]: doubled, k[2]: _out(1, 2, anomalies=["payment_mismatch"], held=True),
                k[3]: _out(1, 2)}
    summary, _ = summarise(created, truth, outcomes, speedup=1, origin=T0)
    opinion = summary["ledger_opinion"]
    assert (opinion["lost"], opinion["duplicated"], opinion["unexpected"]) == (1, 1, 1)
    anomalies = opinion["anomalies"]
    assert anomalies["injected"] == 2
    assert anomalies["precision"] == 0.5  # invalid_phone right, payment_mismatch wrong
    assert anomalies["recall"] == 0.5  # duplicate_order missed (its order was lost)
    assert anomalies["by_reason"]["duplicate_order"]["missed"] == 1
    assert summary["manual_ratio"] == 1.0


def test_push_mode_has_no_interval_to_scale_back() -> None:
    created = {("douyin", "s", "1"): T0}
    outcomes = {("douyin", "s", "1"): _out(30, 90)}  # 30 business s = 0.5 wall s at 60x
    summary, _ = summarise(created, {}, outcomes, speedup=60, origin=T0, pulled=False)
    assert summary["latency_to_decision_s"]["all"]["mean"] == 1.5  # 0.5 s waiting + 1 s processing
    # push: business latency is wall time
    assert summary["latency_to_decision_wall_s"]["mean"] == 1.5


def test_a_pull_that_starts_late_counts_its_lateness_as_hub_time_unscaled() -> None:
    """Pull due at 20 s started at 50 s (30 business s = 0.5 wall s late at 60x): the
    wait for the pull is 20 s, the lateness counts 0.5 s, then 1 s of processing. The
    strict figure counts the whole 50 s wait in business time."""
    key = ("tmall", "s", "1")
    out = _out(50, 110)
    out.pull_due = T0 + timedelta(seconds=20)
    summary, _ = summarise({key: T0}, {}, {key: out}, speedup=60, origin=T0)
    parts = summary["latency_to_decision_parts_s"]
    assert parts["wait_for_pull"]["mean"] == 20.0
    assert parts["pulling"]["mean"] == 0.5
    assert parts["processing"]["mean"] == 1.0
    assert summary["latency_to_decision_s"]["all"]["mean"] == 21.5
    assert summary["latency_to_decision_strict_s"]["mean"] == 51.0
    assert summary["latency_to_decision_wall_s"]["mean"] == round(20 / 60 + 0.5 + 1, 3)


def test_an_order_made_after_its_pull_was_due_waits_for_no_pull() -> None:
    key = ("jd", "s", "1")
    out = _out(50, 50)  # created at 40 s, the pull due at 30 s asked at 50 s
    out.pull_due = T0 + timedelta(seconds=30)
    created = {key: T0 + timedelta(seconds=40)}
    summary, _ = summarise(created, {}, {key: out}, speedup=60, origin=T0)
    assert summary["latency_to_decision_parts_s"]["wait_for_pull"]["mean"] == 0.0
    assert summary["latency_to_decision_s"]["all"]["mean"] == round(10 / 60, 3)
    assert summary["latency_to_decision_strict_s"]["mean"] == 10.0
