"""The outbox relay's follow-ups of a dispatch: a real SQLite ledger, the real WMS
client, and a stub WMS speaking contract section 1 (dispatch, intercept, amend) over
httpx's MockTransport. Each answer kind ends in its stage and, when too late, an alert.
(The relay runs in this process: its ledger actor is the ledger service called locally.)"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import httpx
import orjson
import pytest

from hub.actors.relay import OutboxRelay
from hub.clock import ManualClock
from hub.connectors.wms import WmsClient
from hub.domain.decision import Stage
from hub.domain.outbox import DINGTALK, outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger.service import LedgerService
from tests.factories import T0, order


class Local:
    """An object's methods as a Ray actor's (``.remote`` answers an awaitable)."""

    def __init__(self, target) -> None:
        self.target = target

    def __getattr__(self, name):
        method = getattr(self.target, name)

        async def remote(*args, **kwargs):
            return method(*args, **kwargs)

        return type("Method", (), {"remote": staticmethod(remote)})


class StubWms:
    """Contract section 1, in memory: warehouse orders by marketplace order, the stage the
    test sets, answers by idempotency key (the same key again: ``duplicate``)."""

    def __init__(self) -> None:
        self.orders: dict[tuple, dict] = {}
        self.answers: dict[str, dict] = {}
        self.requests: list[tuple[str, list]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        lines = orjson.loads(request.content)["orders"]
        op = request.url.path.rsplit("/", 1)[-1]
        self.requests.append((op, lines))
        return httpx.Response(200, json={"results": [self.answer(op, line) for line in lines]})

    def answer(self, op: str, line: dict) -> dict:
        ref = (line["channel"], line["shop"], line["order_id"])
        if line["key"] in self.answers:
            first = self.answers[line["key"]]
            held = self.orders.get(ref)
            return dict(first, status="duplicate", stage=held["stage"] if held else None)
        held = self.orders.get(ref)
        if op == "dispatch":
            self.orders[ref] = {"stage": "dispatched", **line}
            result = {"status": "accepted", "stage": "dispatched"}
        elif held is None:
            result = {"status": "unknown", "stage": None}
        elif held["stage"] in ("packed", "shipped"):
            result = {"status": "too_late", "stage": held["stage"]}
        elif op == "intercept":
            held["stage"] = "intercepted"
            result = {"status": "intercepted", "stage": "intercepted"}
        else:
            held.update({k: line[k] for k in ("receiver", "items") if k in line})
            result = {"status": "amended", "stage": held["stage"]}
        result = {"key": line["key"], "channel": ref[0], "shop": ref[1], "order_id": ref[2],
                  **result}
        if result["status"] != "unknown":  # an unknown order may arrive later
            self.answers[line["key"]] = result
        return result


@pytest.fixture
def hub(tmp_path):
    threshold = gc.get_threshold()
    clock = ManualClock(T0 + timedelta(minutes=5))
    service = LedgerService(str(tmp_path / "ledger.db"), clock)
    stub = StubWms()
    wms = WmsClient("http://wms.test", transport=httpx.MockTransport(stub))
    relay = OutboxRelay(Local(service), clock, wms=wms)
    yield service.ledger, stub, relay, clock
    service.close()
    gc.set_threshold(*threshold)


def decide_and_commit(ledger, orders) -> None:
    ledger.ingest(orders)
    made = decide(orders, {}, [], default_ruleset())
    ledger.commit_decisions(made, outbox_for(orders, made))


def moved(o, detail: str):
    return order(int(o.order_id[1:]) - 100000, modified_at=o.modified_at + timedelta(minutes=3),
                 receiver=o.receiver.model_copy(update={"detail": detail}))


def cancelled(o):
    return order(int(o.order_id[1:]) - 100000, modified_at=o.modified_at + timedelta(minutes=3),
                 status="cancelled")


def test_each_answer_of_the_wms_ends_in_its_stage(hub) -> None:
    ledger, stub, relay, clock = hub
    a, b, c, d, e = [order(n) for n in range(1, 6)]
    decide_and_commit(ledger, [a, b, c, d, e])
    assert asyncio.run(relay.deliver_once()) == 5
    sent = stub.orders[a.key]
    assert sent["receiver"]["detail"] == a.receiver.detail and sent["receiver"]["name"] == "张三"
    assert sent["ship_by"] == (a.paid_at + timedelta(hours=48)).isoformat()
    stub.orders[b.key]["stage"] = "packed"
    del stub.orders[c.key]  # lost on the way: the WMS holds no such order
    stub.orders[d.key]["stage"] = "picked"
    stub.orders[e.key]["stage"] = "shipped"
    clock.advance(60)
    decide_and_commit(ledger, [cancelled(a), cancelled(b), cancelled(c), moved(d, "新地址 9 号"),
                               moved(e, "新地址 10 号")])
    assert asyncio.run(relay.deliver_once()) == 5
    assert [op for op, _ in stub.requests] == ["dispatch", "intercept", "amend"]
    assert stub.requests[1][1][0] == {"key": stub.requests[1][1][0]["key"], "channel": "tmall",
                                      "shop": "flagship", "order_id": a.order_id,
                                      "reason": "cancelled"}  # the contract's fields only
    stage = {o.order_id: ledger.get_order(o.key).stage for o in (a, b, c, d, e)}
    assert stage == {a.order_id: Stage.INTERCEPTED, b.order_id: Stage.INTERCEPT_TOO_LATE,
                     c.order_id: Stage.DISPATCHED, d.order_id: Stage.DISPATCHED,
                     e.order_id: Stage.INTERCEPT_TOO_LATE}
    assert stub.orders[d.key]["receiver"]["detail"] == "新地址 9 号"
    assert ledger.get_order(d.key).timeline[-1].stage == Stage.AMENDED
    late = ledger.get_order(e.key).timeline[-1]
    assert late.detail["op"] == "amend" and late.detail["wms_stage"] == "shipped"
    anomalies = {r["reason"]: r for r in ledger.open_anomalies()}
    assert anomalies["intercept_too_late"]["count"] == 2
    assert anomalies["intercept_too_late"]["group"] == "cs-orders"
    assert relay.counts["intercepted"] == 1 and relay.counts["amended"] == 1
    assert relay.counts["follow_up_retries"] == 1  # C's unknown
    alerts = ledger.claim(10, 30, clock.now())
    assert sorted(m.payload["order_id"] for m in alerts if m.destination == DINGTALK) == [
        b.order_id, e.order_id]
    assert all("receiver" not in m.payload for m in alerts)


def test_an_unknown_intercept_succeeds_once_the_dispatch_lands(hub) -> None:
    ledger, stub, relay, clock = hub
    c = order(7)
    decide_and_commit(ledger, [c])
    asyncio.run(relay.deliver_once())
    dispatched = stub.orders.pop(c.key)  # the WMS does not have it yet
    decide_and_commit(ledger, [cancelled(c)])
    asyncio.run(relay.deliver_once())
    assert ledger.get_order(c.key).stage == Stage.DISPATCHED and ledger.pending_count() == 1
    stub.orders[c.key] = dispatched
    clock.advance(2)  # the retry is due after the backoff
    asyncio.run(relay.deliver_once())
    assert ledger.get_order(c.key).stage == Stage.INTERCEPTED
    assert ledger.pending_count() == 0


def test_a_lost_answer_is_read_from_the_duplicate(hub) -> None:
    ledger, stub, relay, clock = hub
    a = order(8)
    decide_and_commit(ledger, [a])
    asyncio.run(relay.deliver_once())
    stub.orders[a.key]["stage"] = "packed"
    decide_and_commit(ledger, [cancelled(a)])
    [row] = ledger.claim(10, 30, clock.now())
    stub.answer("intercept", {**row.payload, "key": row.key})  # answered, answer lost
    clock.advance(31)  # the lease runs out: the relay sends it again
    asyncio.run(relay.deliver_once())
    assert ledger.get_order(a.key).stage == Stage.INTERCEPT_TOO_LATE
    assert ledger.get_order(a.key).timeline[-1].detail["wms"] == "duplicate"


def test_the_dispatch_is_never_logged(hub, caplog) -> None:
    ledger, _stub, relay, _clock = hub
    a = order(9)
    decide_and_commit(ledger, [a])
    stub_refuses = httpx.MockTransport(lambda r: httpx.Response(503, json={"error": "busy"}))
    relay.wms = WmsClient("http://wms.test", transport=stub_refuses)
    with caplog.at_level("DEBUG"):
        asyncio.run(relay.deliver_once())
    assert "文三路" not in caplog.text and "13812345678" not in caplog.text
    assert ledger.pending_count() == 1
