"""Recording the WMS's answers to intercepts and amendments (hub.app.followup), against
a fake ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hub.app.followup import record_answers
from hub.domain.decision import Stage
from hub.domain.outbox import DINGTALK, FOLLOW_UP_TRIES, WMS_AMEND, WMS_INTERCEPT, OutboxMessage

NOW = datetime(2026, 11, 11, 2, tzinfo=UTC)


class FakeFollowUpLedger:
    def __init__(self) -> None:
        self.events, self.alerts, self.delivered_ids, self.failures = [], [], [], []
        self.calls: list[str] = []

    async def record_stage(self, events, outbox):
        self.calls.append("record_stage")
        self.events += events
        self.alerts += outbox
        return len(events)

    async def delivered(self, ids, now):
        self.calls.append("delivered")
        self.delivered_ids += ids

    async def failed(self, message_id, error, now):
        self.calls.append("failed")
        self.failures.append((message_id, error))


def row(n: int, dest: str = WMS_INTERCEPT, attempts: int = 1) -> OutboxMessage:
    kind = "intercept" if dest == WMS_INTERCEPT else "amend"
    return OutboxMessage(dest, f"wms-{kind}:jd:s:J{n}:v", {
        "channel": "jd", "shop": "s", "order_id": f"J{n}", "lane": "P2"},
        order_key=("jd", "s", f"J{n}"), id=n, attempts=attempts)


def answer(r: OutboxMessage, status: str, stage: str | None) -> dict:
    return {"key": r.key, "channel": "jd", "shop": "s", "order_id": r.payload["order_id"],
            "status": status, "stage": stage}


def run(rows, results):
    ledger = FakeFollowUpLedger()
    done = asyncio.run(record_answers(rows, results, ledger, NOW))
    return ledger, done


def test_each_answer_is_a_stage_event_and_too_late_alerts_customer_service() -> None:
    rows = [row(1), row(2), row(3, WMS_AMEND), row(4, WMS_AMEND), row(5)]
    results = [answer(rows[0], "intercepted", "intercepted"),
               answer(rows[1], "too_late", "packed"),
               answer(rows[2], "amended", "picked"),
               answer(rows[3], "too_late", "shipped"),
               answer(rows[4], "duplicate", "intercepted")]
    ledger, done = run(rows, list(reversed(results)))  # matched by key, not position
    assert [(e.key[2], e.stage) for e in ledger.events] == [
        ("J1", Stage.INTERCEPTED), ("J2", Stage.INTERCEPT_TOO_LATE), ("J3", Stage.AMENDED),
        ("J4", Stage.INTERCEPT_TOO_LATE), ("J5", Stage.INTERCEPTED)]
    assert ledger.events[1].detail["reason"] == "intercept_too_late"
    assert "courier" in ledger.events[1].detail["todo"] and ledger.events[1].at == NOW
    assert [(a.destination, a.payload["order_id"], a.payload["group"]) for a in ledger.alerts] \
        == [(DINGTALK, "J2", "cs-orders"), (DINGTALK, "J4", "cs-orders")]
    assert ledger.alerts[0].key != ledger.alerts[1].key
    assert ledger.delivered_ids == [1, 2, 3, 4, 5] and ledger.failures == []
    assert ledger.calls == ["record_stage", "delivered"]  # events before the rows leave
    assert done.outcomes["intercept_too_late"] == 2


def test_unknown_is_retried_then_given_up_after_the_bound() -> None:
    young, old = row(1, attempts=1), row(2, attempts=FOLLOW_UP_TRIES)
    old_amend = row(3, WMS_AMEND, attempts=FOLLOW_UP_TRIES)
    ledger, done = run([young, old, old_amend], [
        answer(young, "unknown", None), answer(old, "unknown", None),
        answer(old_amend, "unknown", None)])
    assert [f[0] for f in ledger.failures] == [1]
    assert "unknown" in ledger.failures[0][1]
    assert ledger.delivered_ids == [2, 3]
    [event] = ledger.events  # the WMS never had it: the order is cancelled, nothing to stop
    assert (event.key[2], event.stage, event.detail["wms"]) == ("J2", Stage.CANCELLED, "unknown")
    assert done.outcomes["given_up"] == 2


def test_a_row_the_wms_did_not_answer_is_retried() -> None:
    r = row(1)
    ledger, _ = run([r], [])
    assert ledger.failures == [(1, "the WMS gave no answer for this row")]
    assert ledger.events == [] and ledger.delivered_ids == []
