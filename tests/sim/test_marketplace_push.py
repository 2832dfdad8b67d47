"""Push mode: every released event reaches a receiving app over real HTTP, in order,
through the receiver's failures, in the marketplace's envelope (one message id per order
version) and signed with the emulator's own recipe, which the hub's check accepts."""

from __future__ import annotations

import threading
from datetime import timedelta

import orjson
import pytest
from fastapi import FastAPI, Request, Response

from hub.api.push_envelope import messages
from hub.api.push_signature import PushCredential, PushGuard, PushRefused
from hub.domain.adapters import parse_any
from hub.domain.order import OrderStatus
from sim.emulators.push import PushSender
from sim.emulators.server import LoopbackServer
from sim.trace import EventKind, TraceEvent
from tests.sim.marketplace_helpers import CHANNELS, T0, make_state, orders_for


def receiver(fail_first: int) -> tuple[FastAPI, list, list]:
    """A stand-in hub intake that checks signatures with the hub's code (401 when wrong)
    and answers 500 to the first ``fail_first`` signed posts; it keeps the messages."""
    app, accepted, refused = FastAPI(), [], []
    lock = threading.Lock()
    guard = PushGuard({(c, "flagship"): PushCredential("demo-key", "demo-secret")
                       for c in CHANNELS})

    @app.post("/push/{channel}")
    async def push(channel: str, request: Request) -> Response:
        raw = await request.body()
        try:
            guard.check(channel, request.query_params.get("shop", ""), request.headers,
                        request.query_params, raw)
            body = messages(channel, raw)
            for message in body:
                if message.sent_s is not None:
                    guard.check_time(message.sent_s, "msg_time")
        except PushRefused as exc:
            return Response(exc.reason, status_code=401)
        with lock:
            if len(refused) < fail_first:
                refused.append(body)
                return Response(status_code=500)
            accepted.append((channel, request.query_params.get("shop"), body))
        return Response(orjson.dumps({"accepted": len(body)}), media_type="application/json")

    return app, accepted, refused


@pytest.mark.parametrize("channel", CHANNELS)
def test_push_delivers_every_event_once_in_order(channel: str) -> None:
    orders = orders_for(channel, range(1, 8))
    events = [TraceEvent(5.0 * n, EventKind.CREATED,
                         o.model_copy(update={"status": OrderStatus.UNPAID}))
              for n, o in enumerate(orders, 1)]
    events += [TraceEvent(60.0 + n, EventKind.PAID, o) for n, o in enumerate(orders[:4])]
    state = make_state(channel, now=T0 + timedelta(seconds=30), events=events)
    app, accepted, refused = receiver(fail_first=2)
    with LoopbackServer(app, name="hub") as hub:
        sender = PushSender(state, f"{hub.url}/push/{channel}?shop=flagship", batch_size=3,
                            retry_base_s=0.01, poll_s=0.01)
        with sender:
            assert sender.drain(10)
            state.clock.advance(100)  # the rest of the trace, including the paid events
            assert sender.drain(10)
    pushed = [raw for _, _, body in accepted for m in body for raw in m.records]
    assert len(pushed) == len(events) == sender.stats()["sent_events"]
    ids = [m.msg_id for _, _, body in accepted for m in body]
    assert len(set(ids)) == len(ids) == len(events)  # one message id per order version
    page = parse_any(channel, pushed, "flagship")
    assert not page.quarantined
    got = [(o.order_id, o.status) for o in page.orders]
    want = [(e.order.order_id, e.order.status) for e in events]
    assert got == want
    assert all(batch_len <= 3 for batch_len in (len(body) for _, _, body in accepted))
    assert len(refused) == 2 and sender.stats()["failures"] == 2
    assert sender.stats()["unauthorised"] == 0

    def unstamped(body: list) -> list:
        return [(m.msg_id, m.topic, m.records) for m in body]

    # the refused batch was sent again: the same messages, stamped and signed afresh
    assert unstamped(refused[0]) == unstamped(accepted[0][2])
    assert {shop for _, shop, _ in accepted} == {"flagship"}


def test_a_pushed_record_is_the_one_the_pull_api_serves_and_is_encoded_once() -> None:
    """A visible version is encoded once for push and pull alike; a superseded event is
    encoded as it was (the push of history is exact)."""
    orders = orders_for("jd", range(1, 6))
    paid = [o.model_copy(update={"status": OrderStatus.PAID}) for o in orders[:2]]
    events = [TraceEvent(1.0 * n, EventKind.CREATED,
                         o.model_copy(update={"status": OrderStatus.UNPAID}))
              for n, o in enumerate(orders, 1)]
    events += [TraceEvent(10.0 + n, EventKind.PAID, o) for n, o in enumerate(paid)]
    state = make_state("jd", now=T0 + timedelta(seconds=60), events=events)
    encoded: list[str] = []
    plain = state.encode
    state.encode = lambda o: encoded.append(o.order_id) or plain(o)
    app, accepted, _ = receiver(fail_first=0)
    with LoopbackServer(app, name="hub") as hub:
        sender = PushSender(state, f"{hub.url}/push/jd?shop=flagship", batch_size=10,
                            poll_s=0.01)
        with sender:
            assert sender.drain(10)
    pushed = [raw for _, _, body in accepted for m in body for raw in m.records]
    assert len(pushed) == len(events)
    assert sorted(encoded) == sorted(o.order_id for o in orders + paid)  # 7, not more
    served = state.serve(T0, T0 + timedelta(hours=1), offset=0, limit=100)
    assert len(encoded) == 7  # the pull API serves what the push encoded
    newest = {raw["orderId"]: raw for raw in pushed}
    assert sorted(served.records, key=lambda r: r["orderId"]) == sorted(
        newest.values(), key=lambda r: r["orderId"])


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_push_signed_with_the_wrong_secret_is_refused_and_counted(channel: str) -> None:
    orders = orders_for(channel, range(1, 3))
    state = make_state(channel, orders)
    app, accepted, refused = receiver(fail_first=0)
    with LoopbackServer(app, name="hub") as hub:
        sender = PushSender(state, f"{hub.url}/push/{channel}?shop=flagship",
                            app_secret="guessed", retry_base_s=0.01, poll_s=0.01)
        with sender:
            assert not sender.drain(0.5)
    assert accepted == [] and refused == []
    stats = sender.stats()
    assert stats["sent_events"] == 0 and stats["unauthorised"] >= 1
    assert stats["unauthorised"] == stats["failures"]
    assert "401" in stats["last_error"]
