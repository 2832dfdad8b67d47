"""The rule for the WMS's per-order answers and dead letters, with fakes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from hub.app.deadletters import (
    DeadLetter,
    DeadLetterNotFound,
    dispatch_answers,
    record_dispatch,
    request_failed,
    resend,
)
from hub.domain.decision import Stage
from hub.domain.outbox import DINGTALK, OutboxMessage

NOW = datetime(2026, 11, 11, 2, tzinfo=UTC)


def row(n: int, attempts: int = 1) -> OutboxMessage:
    return OutboxMessage("wms", f"wms:jd:s:J{n}", {"channel": "jd", "shop": "s",
                                                   "order_id": f"J{n}", "lane": "P1"},
                         id=n, attempts=attempts)


def test_taken_rows_are_delivered_beside_a_refused_one() -> None:
    rows = [row(1), row(2), row(3, attempts=3), row(4)]
    results = [{"key": "wms:jd:s:J1", "status": "accepted"},
               {"key": "wms:jd:s:J2", "status": "duplicate"},
               {"key": "wms:jd:s:J3", "status": "rejected", "reason": "orders[2]: bad"}]
    done = dispatch_answers(rows, results, NOW, tries=4)
    assert done.delivered == [1, 2]
    assert done.retry == [(3, "rejected by the WMS: orders[2]: bad"),
                          (4, "the WMS answered None for this order")]
    assert done.dead == [] and done.events == [] and done.alerts == []
    assert done.refused == 1


def test_the_last_refused_try_dead_letters_with_an_event_and_an_alert() -> None:
    done = dispatch_answers([row(5, attempts=4)], [{"key": "wms:jd:s:J5",
                                                    "status": "rejected"}], NOW, tries=4)
    assert done.dead == [(5, "rejected by the WMS: no reason given")]
    [event] = done.events
    assert (event.key, event.stage, event.detail["attempts"]) == (
        ("jd", "s", "J5"), Stage.DISPATCH_FAILED, 4)
    [alert] = done.alerts
    assert alert.destination == DINGTALK and alert.payload["group"] == "warehouse"
    assert alert.order_key == ("jd", "s", "J5")


def test_a_request_not_answered_is_never_dead_lettered_a_refused_one_is() -> None:
    rows = [row(1, attempts=9), row(2, attempts=1)]
    down = request_failed(rows, "HTTP 503", NOW, refused=False, tries=8)
    assert down.dead == [] and [i for i, _ in down.retry] == [1, 2]
    refused = request_failed(rows, "HTTP 400", NOW, refused=True, tries=8)
    assert [i for i, _ in refused.dead] == [1] and [i for i, _ in refused.retry] == [2]


class FakeLedger:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def delivered(self, ids, now):
        self.calls.append(("delivered", list(ids)))

    async def failed_many(self, failures, now, *, dead=(), events=(), outbox=()):
        self.calls.append(("failed_many", list(failures), list(dead), len(events),
                           len(outbox)))


def test_a_batch_is_at_most_two_ledger_calls() -> None:
    rows = [row(n, attempts=n) for n in range(1, 6)]
    results = [{"key": r.key, "status": "rejected"} for r in rows[:4]] + [
        {"key": rows[4].key, "status": "accepted"}]
    done = dispatch_answers(rows, results, NOW, tries=3)
    ledger = FakeLedger()
    asyncio.run(record_dispatch(done, ledger, NOW))
    assert [c[0] for c in ledger.calls] == ["delivered", "failed_many"]
    _, retry, dead, events, alerts = ledger.calls[1]
    assert [i for i, _ in retry] == [1, 2] and [i for i, _ in dead] == [3, 4]
    assert (events, alerts) == (2, 2)


class FakeLetters:
    def __init__(self, letters) -> None:
        self.letters = {d.id: d for d in letters}
        self.resent: list[tuple] = []

    def dead_letters(self, limit=100):
        return list(self.letters.values())[:limit]

    def dead_letter(self, message_id):
        return self.letters.get(message_id)

    def resend_dead_letter(self, message_id, at, detail):
        if self.letters.pop(message_id, None) is None:
            return False
        self.resent.append((message_id, at, detail))
        return True


def letter(n: int) -> DeadLetter:
    return DeadLetter(n, "wms", f"wms:jd:s:J{n}", ("jd", "s", f"J{n}"), 8, "refused", NOW, NOW)


def test_resend_writes_once_naming_who() -> None:
    store = FakeLetters([letter(1)])
    assert resend(store, store, 1, by="ops-li", at=NOW, note="fixed").key == "wms:jd:s:J1"
    assert store.resent == [(1, NOW, {"by": "ops-li", "note": "fixed", "action": "resend",
                                      "key": "wms:jd:s:J1"})]
    with pytest.raises(DeadLetterNotFound):
        resend(store, store, 1, by="ops-li", at=NOW)


def test_resend_that_lost_a_race_is_refused() -> None:
    class Raced(FakeLetters):
        def resend_dead_letter(self, message_id, at, detail):
            return False

    store = Raced([letter(2)])
    with pytest.raises(DeadLetterNotFound, match="meanwhile"):
        resend(store, store, 2, by="ops", at=NOW)
