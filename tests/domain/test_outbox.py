"""What a decision owes the warehouse (hub.domain.outbox): the dispatch a warehouse can
ship from, the intercept a cancellation owes, the rule a later version follows against
the dispatch already made, and how the WMS's answers read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.domain.decision import Stage
from hub.domain.order import Receiver
from hub.domain.outbox import (
    DINGTALK,
    PENDING,
    RETRY,
    SENT,
    WMS,
    WMS_AMEND,
    WMS_INTERCEPT,
    OutboxMessage,
    Settle,
    amendment,
    answer_outcome,
    dispatch_payload,
    follow_up,
    outbox_for,
    ship_by,
    too_late_alert,
)
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from tests.factories import order

DOUYIN_DECRYPTED = Receiver(name="王五", phone="13700001234", province="广东省", city="深圳市",
                            district="南山区", street="粤海街道", detail="科技园 1 栋 2 单元")


def decided(o):
    return decide([o], {}, [], default_ruleset())[0]


def test_the_dispatch_carries_who_where_what_how_and_by_when() -> None:
    o = order(1, channel="douyin", receiver=DOUYIN_DECRYPTED, delivery="express")
    d = decided(o)
    p = dispatch_payload(o, d)
    assert p["receiver"] == {"name": "王五", "phone": "13700001234", "province": "广东省",
                             "city": "深圳市", "district": "南山区", "street": "粤海街道",
                             "detail": "科技园 1 栋 2 单元"}
    assert p["items"] == [{"sku": i.sku, "quantity": i.quantity} for i in o.items]
    assert p["delivery"] == d.delivery == "express"
    assert p["ship_by"] == (o.paid_at + timedelta(hours=24)).isoformat()
    assert "carrier" not in p  # only a remedy names one


def test_a_remedied_dispatch_names_its_carrier_and_the_order_type_sets_the_promise() -> None:
    remote = order(2, order_type="live_flash", receiver=DOUYIN_DECRYPTED.model_copy(
        update={"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"}))
    d = decided(remote)
    assert d.remedies and dispatch_payload(remote, d)["carrier"] == "EMS"
    assert ship_by(remote) == remote.paid_at + timedelta(hours=24)  # live_flash, not standard
    assert ship_by(order(3)) == order(3).paid_at + timedelta(hours=48)
    unpaid = order(4, paid_at=None, delivery="same_city")
    assert ship_by(unpaid) == unpaid.created_at + timedelta(hours=2)


def test_a_cancelled_version_owes_an_intercept_and_no_dispatch_or_alert() -> None:
    o = order(5, status="cancelled", receiver=DOUYIN_DECRYPTED.model_copy(update={"district": ""}))
    d = decided(o)
    assert d.alert_groups  # the incomplete address would alert, were it not cancelled
    [row] = outbox_for([o], [d])
    assert row.destination == WMS_INTERCEPT and row.order_ref() == o.key
    assert row.key == f"wms-intercept:tmall:flagship:{o.order_id}:{d.version}"
    assert row.payload == {"channel": "tmall", "shop": "flagship", "order_id": o.order_id,
                           "reason": "cancelled", "lane": d.lane}


def test_a_paid_order_owes_one_dispatch_by_order_and_alerts_by_version() -> None:
    o = order(6, receiver=DOUYIN_DECRYPTED.model_copy(update={"district": ""}))
    d = decided(o)
    assert [r.destination for r in outbox_for([o], [d])] == [DINGTALK]  # held
    clean = order(7)
    [row] = outbox_for([clean], [decided(clean)])
    assert (row.destination, row.key) == (WMS, f"wms:tmall:flagship:{clean.order_id}")


@pytest.mark.parametrize(("state", "dispatch", "cancels", "held", "rule"), [
    (None, True, False, False, Settle.INSERT),
    (None, False, True, False, Settle.INSERT),
    (PENDING, False, True, False, Settle.WITHDRAW),
    (PENDING, False, False, True, Settle.WITHDRAW),
    (PENDING, True, False, False, Settle.REPLACE),
    (PENDING, False, False, False, Settle.KEEP),  # e.g. the marketplace says shipped
    (SENT, False, True, False, Settle.INTERCEPT),
    (SENT, True, False, False, Settle.AMEND),
    (SENT, False, False, True, Settle.KEEP),
    (SENT, False, False, False, Settle.KEEP),
])
def test_the_rule_a_later_version_follows(state, dispatch, cancels, held, rule) -> None:
    assert follow_up(state, dispatch=dispatch, cancels=cancels, held=held) is rule


def test_an_amendment_names_only_what_changed_and_the_change() -> None:
    o = order(8)
    d = decided(o)
    sent = dispatch_payload(o, d)
    assert amendment(sent, dict(sent, lane="P0"), "v2") is None
    moved = dict(sent, receiver=dict(sent["receiver"], detail="新地址"))
    message = amendment(sent, moved, "v2")
    assert message.destination == WMS_AMEND
    assert message.key == f"wms-amend:tmall:flagship:{o.order_id}:v2"
    assert set(message.payload) == {"channel", "shop", "order_id", "lane", "receiver"}
    fewer = dict(sent, items=[{"sku": "SKU-1", "quantity": 1}])
    assert amendment(sent, fewer, "v3").payload["items"] == [{"sku": "SKU-1", "quantity": 1}]


@pytest.mark.parametrize(("dest", "status", "stage", "outcome"), [
    (WMS_INTERCEPT, "intercepted", "intercepted", Stage.INTERCEPTED),
    (WMS_INTERCEPT, "too_late", "packed", Stage.INTERCEPT_TOO_LATE),
    (WMS_INTERCEPT, "duplicate", "intercepted", Stage.INTERCEPTED),
    (WMS_INTERCEPT, "duplicate", "shipped", Stage.INTERCEPT_TOO_LATE),
    (WMS_INTERCEPT, "duplicate", None, RETRY),
    (WMS_INTERCEPT, "unknown", None, RETRY),
    (WMS_INTERCEPT, "amended", "picked", RETRY),
    (WMS_AMEND, "amended", "picked", Stage.AMENDED),
    (WMS_AMEND, "duplicate", "picked", Stage.AMENDED),
    (WMS_AMEND, "too_late", "shipped", Stage.INTERCEPT_TOO_LATE),
    (WMS_AMEND, "unknown", None, RETRY),
])
def test_the_wms_answers_read_as_stages(dest, status, stage, outcome) -> None:
    assert answer_outcome(dest, status, stage) == outcome


def test_the_too_late_alert_says_what_is_left_to_do_without_buyer_data() -> None:
    row = OutboxMessage(WMS_INTERCEPT, "wms-intercept:jd:s:J1:v", {
        "channel": "jd", "shop": "s", "order_id": "J1", "reason": "cancelled", "lane": "P1"},
        order_key=("jd", "s", "J1"))
    alert = too_late_alert(row, "shipped")
    assert alert.destination == DINGTALK and alert.payload["group"] == "cs-orders"
    assert alert.payload["reasons"] == ["intercept_too_late"]
    assert "return to sender" in alert.payload["todo"]
    assert "shipped" in alert.payload["details"][0]
    assert alert.order_ref() == ("jd", "s", "J1")
