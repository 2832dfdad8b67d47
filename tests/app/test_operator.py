"""The operator's use cases (hub.app.operator) over fakes of their ports: what each
action hands the ledger's writer, and what it refuses."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from hub.app.operator import (
    AddressFix,
    NotInStage,
    OrderNotFound,
    cancel,
    fix_address,
    release,
    with_address,
)
from hub.domain.catalogue import as_text
from hub.domain.decision import Stage
from hub.domain.order import Receiver
from hub.domain.outbox import DINGTALK, WMS
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.errors import OrderHubError
from tests.factories import T0, order
from tests.fakes_operator import FakeOperatorStore

AT = T0 + timedelta(hours=1)
GOOD = AddressFix(province="浙江省", city="杭州市", district="西湖区", street="西溪街道",
                  detail="文三路100号5幢301室")
RULES = default_ruleset()


def held_store() -> tuple[FakeOperatorStore, tuple[str, str, str]]:
    o = order(3, receiver=Receiver(name="张三", phone="13900003333", province="浙江省",
                                   city="杭州市", district="", street="西溪街道",
                                   detail="文三路100号5幢301室"))
    [decision] = decide([o], {}, [], RULES)
    assert decision.hold_reason == "incomplete_address"
    store = FakeOperatorStore()
    return store, store.add(o, Stage.HELD, decision)


def test_release_sends_the_held_order_to_the_wms_as_decided():
    store, key = held_store()
    done = release(store, store, key, by="alice", at=AT, note="buyer confirmed")
    assert (done.stage, done.released, done.by, done.at) == (Stage.RELEASED, True, "alice", AT)
    [action] = store.actions
    assert (action.stage, action.detail) == (
        Stage.RELEASED, {"by": "alice", "note": "buyer confirmed", "action": "release"})
    assert [(m.destination, m.key, m.order_key) for m in action.outbox] == [
        (WMS, "wms:tmall:flagship:T100003", key)]
    assert action.amended is None


def test_release_of_an_order_that_is_not_held_is_refused():
    store, key = held_store()
    store.orders[key].stage = Stage.ROUTED
    with pytest.raises(NotInStage, match="is routed, not held"):
        release(store, store, key, by="alice", at=AT)
    assert store.actions == []


def test_an_unknown_order_is_not_found():
    store = FakeOperatorStore()
    for action in (release, cancel):
        with pytest.raises(OrderNotFound, match="no order tmall/x/1") as caught:
            action(store, store, ("tmall", "x", "1"), by="alice", at=AT)
        assert isinstance(caught.value, OrderHubError)


def test_an_order_that_changed_before_the_write_is_refused_with_its_new_stage():
    store, key = held_store()
    store.moved_meanwhile = Stage.RELEASED  # another operator released it first
    with pytest.raises(NotInStage, match="is released: it changed meanwhile"):
        release(store, store, key, by="bob", at=AT)
    assert store.actions == []


def test_cancel_only_before_the_warehouse():
    store, key = held_store()
    done = cancel(store, store, key, by="bob", at=AT, note="buyer asked")
    assert (done.stage, done.released) == (Stage.CANCELLED, False)
    assert store.actions[-1].detail["action"] == "cancel" and store.actions[-1].outbox == []
    store.orders[key].stage = Stage.PICKED
    with pytest.raises(NotInStage, match="the warehouse has it"):
        cancel(store, store, key, by="bob", at=AT)
    assert len(store.actions) == 1


def test_a_fixed_address_is_decided_again_and_released_in_one_write():
    store, key = held_store()
    done = fix_address(store, store, key, GOOD, RULES, by="alice", at=AT, note="district")
    assert (done.stage, done.released, done.reasons) == (Stage.RELEASED, True, [])
    [action] = store.actions
    assert action.amended.receiver.district == "西湖区"
    assert action.amended.modified_at == AT
    assert action.decision.version == AT.isoformat() and action.decision.hold_reason is None
    assert action.detail == {"by": "alice", "note": "district", "action": "edit_address",
                             "reasons": []}
    assert [m.destination for m in action.outbox] == [WMS]


def test_an_address_still_wrong_stays_held_with_the_new_reasons():
    store, key = held_store()
    bad = AddressFix(province="浙江省", city="深圳市", district="南山区", detail="1号",
                     phone="12345")
    done = fix_address(store, store, key, bad, RULES, by="alice", at=AT)
    assert (done.stage, done.released) == (Stage.HELD, False)
    assert set(done.reasons) == {"incomplete_address", "invalid_phone"}
    [action] = store.actions
    assert action.stage == Stage.HELD and action.decision.held
    assert {m.destination for m in action.outbox} == {DINGTALK}


def test_the_new_version_keeps_a_blank_phone_and_name_and_moves_past_the_old_one():
    o = order(1)
    moved = with_address(o, GOOD, o.modified_at - timedelta(hours=1))
    assert (moved.receiver.name, moved.receiver.phone) == (o.receiver.name, o.receiver.phone)
    assert moved.modified_at == o.modified_at + timedelta(milliseconds=1)
    renamed = with_address(o, AddressFix(province="浙江省", city="杭州市", detail="x",
                                         name="王五"), AT)
    assert renamed.receiver.name == "王五" and renamed.modified_at == AT


def test_a_fixed_address_keeps_the_merchant_skus_its_lines_expanded_to():
    o = order(3, receiver=Receiver(name="张三", phone="13900003333", province="浙江省",
                                   city="杭州市", district="", street="西溪街道",
                                   detail="文三路100号5幢301室"))
    [decision] = decide([o], {}, [], RULES)
    skus = as_text((("LT-CEIL-24W", 1),))
    expanded = msgspec.structs.replace(decision, extra={**decision.extra, "skus": skus})
    store = FakeOperatorStore()
    key = store.add(o, Stage.HELD, expanded)
    fix_address(store, store, key, GOOD, RULES, by="alice", at=AT)
    [action] = store.actions
    assert action.decision.extra["skus"] == skus
    [dispatch] = [m for m in action.outbox if m.destination == WMS]
    assert [i["sku"] for i in dispatch.payload["items"]] == ["LT-CEIL-24W"]
