"""Row preparation: the fast order JSON is pydantic's document; stored decisions round-trip."""

from __future__ import annotations

from datetime import timedelta

import orjson

from hub.domain.decision import Anomaly, Decision
from hub.domain.order import Buyer, Order
from hub.ledger.prepare import decision_body, decision_from_body, order_json
from hub.ledger.times import micros
from tests.ledger.factory import T0, order


def test_fast_order_json_is_the_pydantic_document_and_reads_back():
    samples = [order(n) for n in range(12)] + [
        order(99, paid_at=None, buyer=Buyer(id="b", tier="plus", tags=("new_first_order",))),
        order(98, modified_at=T0 + timedelta(microseconds=123_456)),
    ]
    for o in samples:
        fast = order_json(o)
        assert orjson.loads(fast) == orjson.loads(o.model_dump_json())
        assert Order.model_validate_json(fast) == o


def test_decision_body_round_trips_every_field():
    d = Decision(channel="jd", shop="s", order_id="J1", version="2026-11-11T00:00:10+08:00",
                 lane="P0", score=96.0, breakdown={"order_type": 100.0}, packing_group="g",
                 anomalies=(Anomaly("remote_standard_express", "info", "logistics", "新疆"),),
                 hold_reason=None, remedies=("delivery:express",), delivery="express",
                 alert_groups=("logistics",), rules_fired=("r1", "r2"), ruleset_version=7,
                 extra={"carrier": "EMS"})
    assert decision_from_body(decision_body(d)) == d


def test_order_versions_are_exact_microseconds():
    moment = T0 + timedelta(microseconds=999_999)
    assert micros(moment) - micros(T0) == 999_999
    assert micros(moment) == round(moment.timestamp() * 1_000_000)
