"""MarketplaceState without HTTP: trace replay, versions, windows, faults from the trace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from hub.clock import ManualClock
from hub.domain.order import OrderStatus
from sim.emulators.faults import FaultKind, FaultSpec
from sim.emulators.marketplace import Credential, MarketplaceState
from sim.trace import EventKind, TraceEvent, TraceHeader, read_trace, write_trace
from tests.sim.marketplace_helpers import T0, make_state, orders_for


def _event(at: float, o, kind: EventKind = EventKind.CREATED) -> TraceEvent:
    return TraceEvent(at=at, kind=kind, order=o)


def test_trace_events_are_released_when_their_time_comes(tmp_path) -> None:
    first, other = orders_for("tmall", [1, 2])
    paid = first.model_copy(update={"status": OrderStatus.PAID})
    jd_order = orders_for("jd", [3])[0]
    path = tmp_path / "t.trace"
    write_trace(path, TraceHeader("unit", 1, T0), [
        _event(10, first.model_copy(update={"status": OrderStatus.UNPAID})),
        _event(20.7, other), _event(25, jd_order), _event(40, paid, EventKind.PAID)])
    header, events = read_trace(path)
    clock = ManualClock(T0)
    state = MarketplaceState(events, clock, channel="tmall", origin=header.origin)
    assert state.orders() == []
    clock.advance(21)
    visible = {o.order_id: o for o in state.orders()}
    assert set(visible) == {first.order_id, other.order_id}  # the JD order is not Tmall's
    assert visible[first.order_id].status == OrderStatus.UNPAID
    assert visible[other.order_id].modified_at == T0 + timedelta(seconds=20)  # whole seconds
    clock.advance(30)
    latest = {o.order_id: o for o in state.orders()}[first.order_id]
    assert latest.status == OrderStatus.PAID
    assert latest.modified_at == T0 + timedelta(seconds=40)
    window = state.window(T0, T0 + timedelta(seconds=30))
    assert [v.order.order_id for v in window] == [other.order_id]  # first moved to t=40
    assert state.snapshot()["stats"]["released_events"] == 3


@pytest.mark.parametrize("size", [1, 7, 100])
def test_paging_a_window_returns_each_order_once(size: int) -> None:
    state = make_state("jd", orders_for("jd", range(1, 24)))
    seen, offset = [], 0
    while True:
        served = state.serve(T0, T0 + timedelta(minutes=5), offset=offset, limit=size)
        seen += [r["orderId"] for r in served.records]
        offset += size
        if not served.has_next:
            break
    assert sorted(seen) == sorted({f"J{n:05d}" for n in range(1, 24)})
    assert len(seen) == 23
    assert served.total == 23


def test_window_is_half_open_and_sorted_by_modified_then_id() -> None:
    same_time = orders_for("tmall", [5, 6], modified_at=T0 + timedelta(seconds=60))
    state = make_state("tmall", [*orders_for("tmall", [1]), *reversed(same_time)])
    inside = state.window(T0 + timedelta(seconds=26), T0 + timedelta(seconds=60))
    assert [v.order.order_id for v in inside] == ["T00001"]  # 60 s is the next window's
    later = state.window(T0 + timedelta(seconds=60), T0 + timedelta(seconds=61))
    assert [v.order.order_id for v in later] == ["T00005", "T00006"]


def test_late_fault_from_the_trace_holds_an_event_back_but_keeps_its_time() -> None:
    orders = orders_for("douyin", range(1, 5))
    events = [_event(10 * n, o) for n, o in enumerate(orders, 1)]
    events.insert(1, TraceEvent(15, EventKind.FAULT, detail={
        "channel": "douyin", "kind": "late_records", "count": 1, "delay_s": 100,
        "note": "ignored"}))
    events.insert(0, TraceEvent(1, EventKind.FAULT, detail={"channel": "jd", "kind": "5xx"}))
    clock = ManualClock(T0 + timedelta(seconds=45))
    state = MarketplaceState(events, clock, channel="douyin", origin=T0)
    assert [o.order_id for o in state.orders()] == ["D00001", "D00003", "D00004"]
    clock.advance(100)  # t=145 > 20 + 100
    late = {o.order_id: o for o in state.orders()}["D00002"]
    assert late.modified_at == T0 + timedelta(seconds=20)
    assert state.snapshot()["errors"] == {"late": 1}
    assert state.faults.active(clock.now()) == []  # the JD fault was not for this emulator


def test_an_older_event_released_late_does_not_replace_a_newer_version() -> None:
    base = orders_for("tmall", [1])[0]
    newer = base.model_copy(update={"status": OrderStatus.CANCELLED,
                                    "modified_at": base.modified_at + timedelta(seconds=30)})
    state = make_state("tmall", [newer])
    state.add_orders([base])
    assert state.orders()[0].status == OrderStatus.CANCELLED
    assert state.snapshot()["stats"]["released_events"] == 2


def test_a_shop_token_sees_only_its_shop() -> None:
    a = orders_for("tmall", [1, 2])
    b = orders_for("tmall", [3], shop="outlet")
    state = make_state("tmall", [*a, *b], credentials=[
        Credential(access_token="flag", shop="flagship"),
        Credential(access_token="out", shop="outlet")])
    assert state.authorise("demo-key", "out") is not None
    assert state.authorise("other-key", "out") is None
    end = T0 + timedelta(minutes=5)
    assert [v.order.order_id for v in state.window(T0, end, "outlet")] == ["T00003"]
    assert len(state.window(T0, end, "flagship")) == 2
    assert len(state.window(T0, end)) == 3


def test_duplicate_and_malformed_faults_change_only_the_page() -> None:
    state = make_state("tmall", orders_for("tmall", range(1, 11)))
    state.faults.add(FaultSpec(kind="duplicate", count=1), state.clock.now())
    state.faults.add(FaultSpec(kind="malformed", count=1), state.clock.now())

    def breaker(raw: dict, suffix: str) -> dict:
        return {**raw, "tid": raw["tid"] + suffix, "payment": "x"}

    end = T0 + timedelta(minutes=5)
    second = state.serve(T0, end, offset=5, limit=5, breaker=breaker)
    tids = [r["tid"] for r in second.records]
    assert tids[0] == "T00005"  # the last record of page one, again
    assert [t for t in tids if "-BAD" in t] == ["T00005-BAD1"]  # a copy of the first record
    assert len(tids) == 7
    assert second.total == 10 and not second.has_next
    clean = state.serve(T0, end, offset=5, limit=5, breaker=breaker)
    assert [r["tid"] for r in clean.records] == [f"T{n:05d}" for n in range(6, 11)]
    assert state.snapshot()["errors"] == {"duplicate": 1, "malformed": 1}


def test_fault_spec_names_what_is_wrong_and_counts_down() -> None:
    with pytest.raises(ValidationError) as info:
        FaultSpec.model_validate({"kind": "meteor"})
    assert "kind" in str(info.value)
    with pytest.raises(ValidationError) as info:
        FaultSpec.model_validate({"kind": "5xx", "rate": 2})
    assert "rate" in str(info.value)
    spec = FaultSpec.model_validate({"kind": "server_error", "duration_s": 10})
    assert spec.kind == FaultKind.SERVER_ERROR
    state = make_state("jd")
    now = state.clock.now()
    state.faults.add(spec, now)
    assert state.faults.take(FaultKind.SERVER_ERROR, now + timedelta(seconds=9)) is not None
    assert state.faults.take(FaultKind.SERVER_ERROR, now + timedelta(seconds=10)) is None


def test_rate_hits_about_that_share() -> None:
    state = make_state("jd", seed=3)
    now = state.clock.now()
    state.faults.add(FaultSpec(kind="throttle", rate=0.25), now)
    hits = sum(state.faults.take(FaultKind.THROTTLE, now) is not None for _ in range(400))
    assert 60 < hits < 140


@pytest.mark.parametrize("seed", range(5))
def test_a_named_filter_pages_exactly_as_filtering_each_page_would(seed: int) -> None:
    """The index a ``where_key`` keeps follows every new version (status changes, late
    versions, other shops) and pages like the plain filter."""
    import random

    rng = random.Random(seed)
    state = make_state("jd", orders_for("jd", range(1, 61)))
    statuses = [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELLED]
    paid = lambda o: o.status == OrderStatus.PAID  # noqa: E731

    def pages(key) -> list:
        start, end = T0, T0 + timedelta(minutes=5)
        out, offset = [], 0
        while True:
            chosen, _, total = state._select(start, end, None, paid, offset, 7, key)
            out += [(v.order.order_id, v.modified) for v in chosen]
            offset += 7
            if offset >= total:
                return out, total

    assert pages("paid") == pages(None)  # builds the index
    for step in range(1, 40):
        n = rng.randrange(1, 70)
        changes = {"status": rng.choice(statuses),
                   "modified_at": T0 + timedelta(seconds=rng.randrange(1, 200))}
        if rng.random() < 0.2:
            changes["shop"] = "other"
        state.add_orders(orders_for("jd", [n], **changes))
        assert pages("paid") == pages(None), step
