"""The outside verdict on hand-made traces and records (contract §2, §3): each figure
counts what it should, and is 0 on a clean history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from hub.domain import Item, Order, Receiver
from hub.domain.order import SHANGHAI
from sim.measure import latency_to_wms
from sim.verdict import HARD_FIGURES, Outside, failures, judge
from tests.factories import order as make_order

ORIGIN = datetime(2026, 11, 11, tzinfo=SHANGHAI)
PROMISES = {"same_city": 2.0, "express": 24.0, "standard": 48.0, "live_flash": 24.0}


def promise(order_type: str, delivery: str) -> float:
    return PROMISES.get(order_type) or PROMISES[delivery]


@dataclass
class Ev:  # a trace event as contract §3 has it
    at: float
    kind: str
    order: Order
    truth: tuple[str, ...] = ()
    observable: dict[str, float] = field(default_factory=dict)
    odd: tuple[str, ...] = ()


def iso(s: float) -> str:
    return (ORIGIN + timedelta(seconds=s)).isoformat()


def life(n: int, *, paid: float = 10.0, truth=(), observable=None, odd=(), **changes) -> list:
    """Created at 0 (unpaid), paid at ``paid``."""
    base = make_order(n, created_at=ORIGIN, **changes)
    made = base.model_copy(update={"status": "unpaid", "paid_at": None, "modified_at": ORIGIN})
    return [Ev(0.0, "created", made, tuple(truth), odd=tuple(odd)),
            Ev(paid, "paid", base.model_copy(update={"modified_at": ORIGIN + timedelta(
                seconds=paid)}), tuple(truth), observable=dict(observable or {}))]


def later(events: list, at: float, kind: str, **update) -> list:
    last = events[-1].order
    return [*events, Ev(at, kind, last.model_copy(update={
        **update, "modified_at": ORIGIN + timedelta(seconds=at)}), events[-1].truth)]


def receiver(o: Order) -> dict:
    return o.receiver.model_dump()


def items(o: Order) -> list[dict]:
    return [{"sku": i.sku, "quantity": i.quantity} for i in o.items]


def warehouse_order(o: Order, no: str, *, accepted: float = 40, packed: float | None = 400,
                    shipped: float | None = 1000, lane: str = "P1", **over) -> dict:
    record = {"wms_order_no": no, "key": f"wms:{o.order_id}", "channel": o.channel.value,
              "shop": o.shop, "order_id": o.order_id, "lane": lane,
              "packing_group": f"lane-{lane}", "delivery": o.delivery.value,
              "items": items(o), "receiver": receiver(o), "accepted_at": iso(accepted),
              "picked_at": None, "packed_at": iso(packed) if packed is not None else None,
              "shipped_at": iso(shipped) if shipped is not None else None,
              "intercepted_at": None, "tracking_no": None, "carrier": None, "amendments": []}
    return record | over


def shipment(o: Order, no: str, *, at: float = 1000, **over) -> dict:
    return {"wms_order_no": no, "channel": o.channel.value, "shop": o.shop,
            "order_id": o.order_id, "tracking_no": f"YT{no}", "carrier": "YTO",
            "shipped_at": iso(at), "items": items(o), "receiver": receiver(o)} | over


def alert(at: float, *orders: Order, accepted: bool = True, errcode: int = 0) -> dict:
    text = "\n".join(f"- {o.channel.value} {o.order_id} (P1): 地址不完整" for o in orders)
    return {"seq": 1, "at": iso(at), "robot": "ops", "accepted": accepted,
            "errcode": errcode, "errmsg": "", "msgtype": "markdown", "title": "t",
            "text": f"### OrderHub\n\n{text}"}


def verdict(events: list, wms_orders=(), shipments=(), messages=(), **kw: Any) -> dict:
    records = {"wms": {"requests": [], "orders": list(wms_orders),
                       "shipments": list(shipments)},
               "dingtalk": {"messages": list(messages)}}
    outside = Outside.read(events, records, origin=ORIGIN)
    return judge(outside, promise=promise, **kw)[0]


def shipped_normally(n: int, **changes) -> tuple[list, list, list]:
    events = life(n, **changes)
    o = events[-1].order
    return events, [warehouse_order(o, f"W{n}")], [shipment(o, f"W{n}")]


@pytest.fixture
def clean() -> tuple[list, list, list, list]:
    """Three clean orders shipped on time, one planted anomaly held and alerted, one odd
    clean order shipped, one order never paid and one cancelled before dispatch."""
    events, wms, out = [], [], []
    for n in (1, 2, 3, 5):
        e, w, s = shipped_normally(n, odd=("rare_phone_prefix",) if n == 5 else ())
        events += e
        wms += w
        out += s
    held = life(4, truth=("incomplete_address",), observable={"incomplete_address": 10.0})
    events += held
    events += life(6)[:1]  # never paid
    events += later(life(7), 20, "cancelled", status="cancelled")
    return events, wms, out, [alert(70, held[-1].order)]


def test_a_clean_history_has_every_figure_at_zero(clean) -> None:
    v = verdict(*clean)
    assert {name: v[name] for name in HARD_FIGURES} == dict.fromkeys(HARD_FIGURES, 0)
    assert v["unavoidable_shipped_after_cancel"] == 0
    assert v["held_clean"]["count"] == 0
    assert v["alerts_refused"] == 0
    assert v["late"]["count"] == 0
    assert v["on_time"]["lane"]["P1"]["share"] == 1.0
    assert v["on_time"]["order_type"]["all"]["on_time"] == 4
    assert v["complaint_risk"] == 0.0
    assert v["address_unchecked"] == v["items_unchecked"] == 0
    a = v["anomalies"]
    assert (a["precision"], a["recall"]) == (1.0, 1.0)
    assert a["hard_negatives"] == {"n": 1, "flagged": 0, "precision": 1.0,
                                   "by_label": {"rare_phone_prefix": {"n": 1, "flagged": 0}}}
    assert a["detection_delay_s"]["mean"] == 60.0  # observable at 10 s, alerted at 70 s
    assert failures(v) == []


def test_a_paid_order_that_never_reached_the_wms_is_lost_unless_an_alert_named_it() -> None:
    events = life(1)
    v = verdict(events)
    assert v["lost"] == 1 and v["held_clean"]["count"] == 0
    assert failures(v) == ["lost = 1", "anomaly precision = 0.0 < 0.99"]
    v = verdict(events, messages=[alert(30, events[-1].order)])
    assert v["lost"] == 0
    assert v["held_clean"]["count"] == 1 and v["held_clean"]["never_reached_wms"] == 1
    assert v["held_clean"]["held_s"]["max"] == 20.0  # paid at 10, the records end at 30


def test_two_warehouse_orders_or_two_shipments_are_shipped_twice() -> None:
    events, wms, out = shipped_normally(1)
    o = events[-1].order
    second = warehouse_order(o, "W9", accepted=50, key="wms:again")
    assert verdict(events, [*wms, second], out)["shipped_twice"] == 1
    assert verdict(events, wms, [*out, shipment(o, "W1", at=1200)])["shipped_twice"] == 1
    stopped = second | {"intercepted_at": iso(60), "packed_at": None, "shipped_at": None}
    assert verdict(events, [*wms, stopped], out)["shipped_twice"] == 0


def test_a_cancellation_before_packing_that_shipped_is_avoidable_after_it_is_not() -> None:
    events, wms, out = shipped_normally(1)  # packed at 400, shipped at 1000
    v = verdict(later(events, 300, "cancelled", status="cancelled"), wms, out)
    assert (v["avoidable_shipped_after_cancel"], v["unavoidable_shipped_after_cancel"]) == (1, 0)
    v = verdict(later(events, 500, "cancelled", status="cancelled"), wms, out)
    assert (v["avoidable_shipped_after_cancel"], v["unavoidable_shipped_after_cancel"]) == (0, 1)
    assert failures(v) == []
    within = verdict(later(events, 350, "cancelled", status="cancelled"), wms, out, notice_s=60)
    assert within["avoidable_shipped_after_cancel"] == 0  # 50 s before packing: the hub
    assert within["within_notice_shipped_after_cancel"] == 1  # could not have known in time
    stopped = [wms[0] | {"intercepted_at": iso(320), "packed_at": None, "shipped_at": None}]
    v = verdict(later(events, 300, "cancelled", status="cancelled"), stopped, [])
    assert v["avoidable_shipped_after_cancel"] == v["unavoidable_shipped_after_cancel"] == 0


def test_shipping_to_an_address_replaced_before_packing_is_stale() -> None:
    events, wms, out = shipped_normally(1)
    moved = Receiver(**{**receiver(events[-1].order), "city": "宁波市", "district": "鄞州区"})
    v = verdict(later(events, 200, "address_changed", receiver=moved), wms, out)
    assert v["stale_address"] == 1
    assert verdict(later(events, 450, "address_changed", receiver=moved), wms, out)[
        "stale_address"] == 0  # after packing: too late to change
    amended = [shipment(events[-1].order, "W1", receiver=moved.model_dump())]
    assert verdict(later(events, 200, "address_changed", receiver=moved), wms, amended)[
        "stale_address"] == 0
    partial = [shipment(events[-1].order, "W1", receiver={"province": "浙江省",
                                                          "city": "杭州市"})]
    v = verdict(later(events, 200, "address_changed", receiver=moved), wms, partial)
    assert v["stale_address"] == 1  # the fields it carries are enough to see it
    bare = [w | {"receiver": {}} for w in wms]  # what the WMS got before #20: no address
    v = verdict(events, bare, [shipment(events[-1].order, "W1", receiver={})])
    assert v["address_unchecked"] == 1 and v["stale_address"] == 0


def test_shipped_lines_that_differ_from_the_paid_ones_are_wrong_items() -> None:
    events, wms, _ = shipped_normally(1)
    o = events[-1].order
    more = [{"sku": i.sku, "quantity": i.quantity + 1} for i in o.items]
    assert verdict(events, wms, [shipment(o, "W1", items=more)])["wrong_items"] == 1
    split = [{"sku": o.items[0].sku, "quantity": 1}] * o.items[0].quantity
    assert verdict(events, wms, [shipment(o, "W1", items=split)])["wrong_items"] == 0


def test_bundles_are_expanded_before_comparing() -> None:
    box = Item(sku="BOX", quantity=1, price_fen=100)
    events = life(1, items=(box,))
    o = events[-1].order
    parts = [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]
    records = {"wms": {"orders": [warehouse_order(o, "W1")],
                       "shipments": [shipment(o, "W1", items=parts)]}}
    outside = Outside.read(events, records, origin=ORIGIN,
                           bundles={"BOX": (("A", 2), ("B", 1))})
    assert judge(outside, promise=promise)[0]["wrong_items"] == 0
    outside = Outside.read(events, records, origin=ORIGIN)
    assert judge(outside, promise=promise)[0]["wrong_items"] == 1


def test_a_scenarios_bundle_and_multi_pack_are_their_components_shipped() -> None:
    """Paid lines carry platform SKU ids; the WMS ships merchant SKUs (the hub expanded
    them); the scenario's catalogue says what each listing holds."""
    from sim.scenario import load_scenario

    scenario = load_scenario("double11-42k")
    shelf = [x for x in scenario.shelf() if x.channel == "jd"]
    bundle = next(x for x in shelf if x.code == "SET-CEIL24-E27X3")
    pack = next(x for x in shelf if x.code == "BULB-E27-9W-X3")
    paid = (Item(sku=bundle.sku_id, item_id=bundle.item_id, outer_sku=bundle.outer,
                 quantity=1, price_fen=bundle.price_fen),
            Item(sku=pack.sku_id, item_id=pack.item_id, quantity=2, price_fen=pack.price_fen))
    events = life(1, items=paid)
    o = events[-1].order
    right = [{"sku": "LT-CEIL-24W", "quantity": 1}, {"sku": "LT-BULB-E27-9W", "quantity": 9}]
    short = [{"sku": "LT-CEIL-24W", "quantity": 1}, {"sku": "LT-BULB-E27-9W", "quantity": 3}]

    def wrong(shipped: list[dict], bundles=None) -> int:
        records = {"wms": {"orders": [warehouse_order(o, "W1", items=shipped)],
                           "shipments": [shipment(o, "W1", items=shipped)]}}
        outside = Outside.read(events, records, origin=ORIGIN, bundles=bundles)
        return judge(outside, promise=promise)[0]["wrong_items"]

    assert wrong(right, scenario.expansions()) == 0
    assert wrong(short, scenario.expansions()) == 1  # the multi-pack shipped as one bulb each
    assert wrong(right) == 1  # without the catalogue the platform ids match nothing shipped


def test_a_clean_order_that_reached_the_wms_late_was_held() -> None:
    events = life(1)
    o = events[-1].order
    v = verdict(events, [warehouse_order(o, "W1", accepted=1000, packed=1400, shipped=2000)],
                [shipment(o, "W1", at=2000)], hold_after_s=900)
    assert v["held_clean"]["count"] == 1 and v["held_clean"]["held_s"]["mean"] == 990.0
    assert v["complaint_risk"] == 1.0
    v = verdict(events, [warehouse_order(o, "W1", accepted=800)], [shipment(o, "W1")],
                hold_after_s=900)
    assert v["held_clean"]["count"] == 0


def test_refused_messages_are_counted_by_errcode() -> None:
    events, wms, out = shipped_normally(1)
    v = verdict(events, wms, out, [alert(20, events[-1].order, accepted=False, errcode=130101),
                                   alert(30, events[-1].order, accepted=False, errcode=310000)])
    assert v["alerts_refused"] == 2
    assert v["alerts_refused_by_errcode"] == {"130101": 1, "310000": 1}
    assert failures(v) == ["alerts_refused = 2"]


def test_late_is_judged_against_the_promise_by_lane_and_order_type() -> None:
    events, wms, out = [], [], []
    for n, shipped in ((1, 3 * 3600), (2, 3600)):
        e = life(n, delivery="same_city")
        o = e[-1].order
        events += e
        wms.append(warehouse_order(o, f"W{n}", lane="P0", packed=shipped - 600,
                                   shipped=shipped))
        out.append(shipment(o, f"W{n}", at=shipped))
    e = life(3, order_type="live_flash", delivery="same_city")  # live_flash wins: 24 h
    events += e
    wms.append(warehouse_order(e[-1].order, "W3", lane="P1", packed=10000, shipped=10800))
    out.append(shipment(e[-1].order, "W3", at=10800))
    v = verdict(events, wms, out)
    assert v["late"]["count"] == 1
    assert v["late"]["lane"] == {"P0": 1, "P1": 0, "all": 1}
    assert v["on_time"]["lane"]["P0"]["share"] == 0.5
    assert v["on_time"]["order_type"]["live_flash"]["share"] == 1.0
    assert v["complaint_risk"] == round(1 / 3, 4)


def test_unshipped_past_its_promise_at_the_end_is_late_before_it_is_pending() -> None:
    e = life(1, delivery="same_city")
    o = e[-1].order
    waiting = [warehouse_order(o, "W1", packed=None, shipped=None)]
    v = verdict(e, waiting, [], [alert(3 * 3600, make_order(99))])  # records end at 3 h
    assert v["late"]["count"] == 1
    v = verdict(e, waiting, [])
    assert v["late"]["count"] == 0 and v["on_time"]["lane"]["P1"]["pending"] == 1


def test_precision_recall_and_hard_negatives_from_outside() -> None:
    planted = life(1, truth=("invalid_phone",))
    caught = life(2, truth=("incomplete_address",))
    odd = life(3, odd=("no_district_city",))
    events = planted + caught + odd
    wms = [warehouse_order(planted[-1].order, "W1"), warehouse_order(odd[-1].order, "W3")]
    out = [shipment(planted[-1].order, "W1"), shipment(odd[-1].order, "W3")]
    v = verdict(events, wms, out, [alert(60, odd[-1].order)])
    a = v["anomalies"]
    assert (a["true_positive"], a["false_positive"], a["missed"]) == (1, 1, 1)
    assert (a["precision"], a["recall"]) == (0.5, 0.5)
    assert a["by_reason"]["invalid_phone"] == {"planted": 1, "flagged": 0}
    assert a["hard_negatives"]["flagged"] == 1 and a["hard_negatives"]["precision"] == 0.5
    assert a["detected_without_alert"] == 1  # held, never named
    assert failures(v) == ["anomaly precision = 0.5 < 0.99", "anomaly recall = 0.5 < 0.99"]


def test_a_delivery_changed_by_the_hub_is_a_flag_seen_from_outside() -> None:
    remote = life(4, truth=("remote_standard_express",))
    order = remote[-1].order
    wms = [warehouse_order(order, "W4", delivery="express")]
    a = verdict(remote, wms, [shipment(order, "W4")])["anomalies"]
    assert (a["true_positive"], a["missed"]) == (1, 0)
    a = verdict(remote, [warehouse_order(order, "W4")], [shipment(order, "W4")])["anomalies"]
    assert (a["true_positive"], a["missed"]) == (0, 1)


def test_latency_to_wms_counts_the_pull_wait_in_business_time_and_the_hub_in_wall() -> None:
    """Paid at 10 s; the pull due at 30 s asked at 31 s took it in; the WMS accepted it at
    91 s. At 60x: 20 s waiting + 61 business s / 60 of the hub's work."""
    events = life(1)
    o = events[-1].order
    records = {"wms": {"orders": [warehouse_order(o, "W1", accepted=91)], "shipments": []}}
    outside = Outside.read(events, records, origin=ORIGIN)
    t = ORIGIN.timestamp()
    pulls = {(o.channel.value, o.shop): [(t + 1, t), (t + 31, t + 30), (t + 61, t + 60)]}
    got = latency_to_wms(outside, speedup=60, pulls=pulls)
    assert got["latency_to_wms_s"]["all"]["mean"] == round(20 + 61 / 60, 3)
    assert got["latency_to_wms_s"]["by_lane"]["P1"]["n"] == 1
    assert got["latency_to_wms_s"]["by_channel"]["tmall"]["max"] == round(20 + 61 / 60, 3)
    assert got["latency_to_wms_strict_s"]["all"]["mean"] == 81.0
    unsplit = latency_to_wms(outside, speedup=60)
    assert unsplit["latency_to_wms_s"]["all"]["mean"] == 81.0
    assert unsplit["latency_to_wms_s"]["split"] is False
    pushed = latency_to_wms(outside, speedup=60, pulled=False)
    assert pushed["latency_to_wms_s"]["all"]["mean"] == 1.35


def test_held_orders_are_left_out_of_the_delay() -> None:
    events = life(1)
    o = events[-1].order
    records = {"wms": {"orders": [warehouse_order(o, "W1", accepted=5000)]},
               "dingtalk": {"messages": [alert(30, o)]}}
    outside = Outside.read(events, records, origin=ORIGIN)
    assert latency_to_wms(outside, speedup=1)["latency_to_wms_s"]["all"]["n"] == 0


def test_a_clean_order_held_for_stock_the_erp_ran_out_of_is_not_a_false_hold() -> None:
    events, wms, out = shipped_normally(1)
    held = life(2)
    order = held[-1].order
    sku = order.items[0].sku
    draws = {"requests": [{"seq": 1, "at": iso(5), "op": "wms_dispatch",
                           "orders": [{"items": [{"sku": sku, "quantity": 10}]}],
                           "results": [{"status": "accepted", "short": []}]}]}
    records = {"wms": {"requests": [], "orders": wms, "shipments": out},
               "dingtalk": {"messages": [alert(60, order)]}, "erp": draws}

    def judged(stock: int) -> dict:
        outside = Outside.read(events + held, records, origin=ORIGIN, stock={sku: stock})
        return judge(outside, promise=promise)[0]

    ran_out, plenty = judged(10), judged(11)  # 10 drawn: out of stock at 5 s, or not
    assert ran_out["anomalies"]["stock_holds"] == 1 and ran_out["anomalies"]["false_positive"] == 0
    assert ran_out["held_clean"]["count"] == 0
    assert plenty["anomalies"]["stock_holds"] == 0 and plenty["anomalies"]["false_positive"] == 1
    assert plenty["held_clean"]["count"] == 1


def test_an_alert_about_a_cancellation_too_late_to_stop_is_not_an_anomaly_flag() -> None:
    events, wms, out = shipped_normally(1)
    cancelled = later(events, 500, "cancelled", status="cancelled")  # after packing
    order = events[-1].order
    a = verdict(cancelled, wms, out, [alert(520, order)])["anomalies"]
    assert a["false_positive"] == 0
    moved = later(events, 500, "address_changed",
                  receiver=order.receiver.model_copy(update={"detail": "新地址 8 号"}))
    a = verdict(moved, wms, out, [alert(520, order)])["anomalies"]
    assert a["false_positive"] == 0  # nor one about a new address it came too late for
    a = verdict(events, wms, out, [alert(520, order)])["anomalies"]
    assert a["false_positive"] == 1  # the same alert on a live clean order is a false flag
