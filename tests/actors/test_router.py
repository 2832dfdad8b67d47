"""The router on real Ray actors: batches in, decisions, events and outbox rows out."""

import time
from datetime import timedelta

import httpx
import pytest

from hub.api.server import ApiServer
from hub.clock import Clock
from hub.connectors import Connections
from hub.domain.order import Item, Receiver
from hub.ledger import StageEvent
from tests.actors.erp_stub import ErpStub
from tests.actors.routers import start_router, wait_until
from tests.factories import order

pytestmark = pytest.mark.ray


def test_router_decides_every_order_once_and_holds_anomalies(ray_session, tmp_path) -> None:
    ray = ray_session
    ledger, router = start_router(ray, tmp_path, validators=2, batch_max=100)
    bad = Receiver(name="李四", phone="123", province="浙江省", city="杭州市", district="",
                   street="", detail="杭州")
    orders = [order(i) for i in range(250)] + [order(1000, receiver=bad)]
    new = ray.get(ledger.ingest.remote(orders, None))
    assert len(new) == len(orders)
    ray.get(router.submit.remote(new))
    ray.get(router.submit.remote(new))  # the same versions again: not decided twice
    assert wait_until(lambda: ray.get(router.stats.remote())["decided"] >= len(orders))
    stats = ray.get(router.stats.remote())
    assert stats["decided"] == len(orders)
    assert stats["committed"] == len(orders)
    counts = ray.get(ledger.call.remote("counts"))
    assert sum(counts["stages"].values()) == len(orders)
    assert counts["stages"].get("held") == 1
    held = ray.get(ledger.get_order.remote(("tmall", "flagship", "T101000")))
    assert held.decision.hold_reason == "incomplete_address"
    pending = ray.get(ledger.call.remote("pending_count"))
    assert pending == len(orders)  # 250 WMS dispatches + 1 alert for the held one


def test_router_redrives_what_the_ledger_holds_undecided(ray_session, tmp_path) -> None:
    """Orders stored but never handed to the router (a puller or router that died in
    between) are found in the ledger and decided once, while fresh ones go on."""
    ray = ray_session
    ledger, router = start_router(ray, tmp_path, redrive_every_s=0.2, redrive_after_s=0.0)
    lost = ray.get(ledger.ingest.remote([order(i) for i in range(120)], None))
    ray.get(router.start.remote())
    fresh = ray.get(ledger.ingest.remote([order(i) for i in range(500, 560)], None))
    ray.get(router.submit.remote(fresh))
    everything = len(lost) + len(fresh)
    assert wait_until(lambda: ray.get(ledger.call.remote("counts"))["stages"].get("routed", 0)
                      == everything)
    stats = ray.get(router.stats.remote())
    assert stats["redriven"] >= len(lost)
    assert stats["committed"] == everything  # decided more than once is stored once
    events = ray.get(ledger.call.remote("events_since"))
    assert sum(e.stage == "routed" for e in events) == everything
    assert ray.get(ledger.call.remote("undecided_orders", 0.0)) == []
    # a new version of an order the WMS already has keeps its stage, and is re-driven too
    with_wms = [o.key for o in lost[:5]]
    ray.get(ledger.record_stage.remote(
        [StageEvent(o.key, "dispatched", o.modified_at) for o in lost[:5]]))
    changed = [o.model_copy(update={"modified_at": o.modified_at + timedelta(minutes=5),
                                    "warehouse_hint": "WH-2"}) for o in lost[:5]]
    assert len(ray.get(ledger.ingest.remote(changed, None))) == len(changed)

    def decided_at_new_version() -> bool:
        views = [ray.get(ledger.get_order.remote(key)) for key in with_wms]
        return all(v.decision.version == c.modified_at.isoformat()
                   for v, c in zip(views, changed, strict=True))

    assert wait_until(decided_at_new_version)
    assert {ray.get(ledger.get_order.remote(key)).stage for key in with_wms} == {"dispatched"}
    assert ray.get(ledger.call.remote("undecided_orders", 0.0)) == []


# -- the catalogue: one stock per merchant SKU, refreshed while the hub runs -------------------
# The ERP is a FastAPI stand-in of the contract's endpoints (tests/actors/erp_stub.py): the
# ERP emulator's catalogue endpoint is written in parallel, on the sim side.

SKUS = [{"sku": "LT-DESK-12W", "name": "台灯"}, {"sku": "LT-CEIL-24W", "name": "吸顶灯"},
        {"sku": "LT-BULB-E27-9W", "name": "灯泡"}]
DESK = {"tmall": ("680112345678", "4987654321012"), "jd": ("100012345600", "100012345678"),
        "douyin": ("3556718201736620111", "1745123456789012345")}
LISTINGS = [{"channel": ch, "shop": "", "item_id": ids[0], "sku_id": ids[1],
             "components": [{"sku": "LT-DESK-12W", "quantity": 1}]} for ch, ids in DESK.items()]
BUNDLE = {"channel": "jd", "shop": "", "item_id": "100099990000", "sku_id": "100099990001",
          "components": [{"sku": "LT-CEIL-24W", "quantity": 1},
                         {"sku": "LT-BULB-E27-9W", "quantity": 3}]}
STRIP = {"channel": "douyin", "shop": "", "item_id": "3556718201730000001",
         "sku_id": "1745120000000000001", "components": [{"sku": "LT-STRIP-5M", "quantity": 2}]}


def _line(item_id="", sku="", outer="", quantity=1):
    return Item(item_id=item_id, sku=sku, outer_sku=outer, quantity=quantity, price_fen=100)


def _catalogue_router(ray, tmp_path, erp_url, **kw):
    return start_router(ray, tmp_path, validators=2, batch_max=4, batch_ms=5, erp_url=erp_url,
                        connections=Connections(), inventory_refresh_s=3600.0, **kw)


def _decided(ray, ledger, keys):
    views = [ray.get(ledger.get_order.remote(k)) for k in keys]
    return all(v is not None and v.decision is not None for v in views)


def test_one_stock_per_merchant_sku_across_all_three_channels(ray_session, tmp_path) -> None:
    """10 desk lamps in stock, 12 paid orders from three marketplaces in batches of 4:
    exactly 2 held out_of_stock_paid, whichever channels they came from; a bundle draws
    each of its components."""
    ray = ray_session
    stub = ErpStub(SKUS, [*LISTINGS, BUNDLE],
                   {"LT-DESK-12W": 10, "LT-CEIL-24W": 5, "LT-BULB-E27-9W": 7})
    with ApiServer(stub.app, name="erp-stub") as erp:
        ledger, router = _catalogue_router(ray, tmp_path, erp.url)
        channels = ["douyin", "jd", "tmall"] * 4
        desks = [order(i, channel=ch, order_id=f"{ch}-{i}", items=(_line(*DESK[ch]),))
                 for i, ch in enumerate(channels)]
        ray.get(ledger.ingest.remote(desks, None))
        ray.get(router.submit.remote(desks))
        assert wait_until(lambda: _decided(ray, ledger, [o.key for o in desks]))
        held = ray.get(ledger.find_orders.remote(hold_reason="out_of_stock_paid"))
        assert len(held) == 2
        routed = [ray.get(ledger.get_order.remote(o.key)) for o in desks]
        assert sum(v.stage == "routed" for v in routed) == 10
        assert {v.order.channel for v in routed if v.stage == "routed"} == {
            "tmall", "jd", "douyin"}

        bundle = order(100, channel="jd", order_id="jd-bundle",
                       items=(_line(BUNDLE["item_id"], BUNDLE["sku_id"], quantity=2),))
        bulbs = order(101, channel="tmall", order_id="tmall-bulbs",
                      items=(_line(outer="LT-BULB-E27-9W", quantity=2),))  # by outer code
        for one in (bundle, bulbs):  # one after the other: 7 - 6 bulbs leave 1 for 2
            ray.get(ledger.ingest.remote([one], None))
            ray.get(router.submit.remote([one]))
            assert wait_until(lambda one=one: _decided(ray, ledger, [one.key]))
        assert ray.get(ledger.get_order.remote(bundle.key)).stage == "routed"
        short = ray.get(ledger.get_order.remote(bulbs.key)).decision
        assert short.hold_reason == "out_of_stock_paid"
        assert short.anomalies[0].detail == "short: LT-BULB-E27-9W"
        rows = ray.get(ledger.claim.remote(100, 30.0, Clock().now()))
        [dispatch] = [r for r in rows if r.destination == "wms"
                      and r.payload["order_id"] == "jd-bundle"]
        assert dispatch.payload["items"] == [{"sku": "LT-CEIL-24W", "quantity": 2},
                                             {"sku": "LT-BULB-E27-9W", "quantity": 6}]
        assert dispatch.payload["listing_items"][0]["sku_id"] == BUNDLE["sku_id"]
        assert ray.get(router.stats.remote())["catalogue_version"] == 1


def test_a_catalogue_change_while_running_releases_an_unmapped_order(ray_session,
                                                                     tmp_path) -> None:
    ray = ray_session
    stub = ErpStub(SKUS, LISTINGS, {"LT-DESK-12W": 50, "LT-STRIP-5M": 50})
    with ApiServer(stub.app, name="erp-stub") as erp:
        ledger, router = _catalogue_router(ray, tmp_path, erp.url, catalogue_refresh_s=0.2,
                                           redrive_every_s=0.2)
        strip = order(1, channel="douyin", order_id="dy-strip",
                      items=(_line(STRIP["item_id"], STRIP["sku_id"], quantity=1),))
        desk = order(2, channel="jd", order_id="jd-desk", items=(_line(*DESK["jd"]),))
        ray.get(ledger.ingest.remote([strip, desk], None))
        ray.get(router.submit.remote([strip, desk]))
        assert wait_until(lambda: _decided(ray, ledger, [strip.key, desk.key]))
        held = ray.get(ledger.get_order.remote(strip.key))
        assert held.stage == "held" and held.decision.hold_reason == "unmapped_sku"
        assert held.summary.hold_group == "merchandising"

        # a bad version (an unknown merchant SKU) is refused; the one in force stays
        httpx.post(f"{erp.url}/_control/catalogue", json={"listings": [STRIP]}).raise_for_status()
        assert wait_until(lambda: (1, 2) in stub.asked)  # v2 seen (asked since v1, in force)
        time.sleep(0.5)
        assert ray.get(router.stats.remote())["catalogue_version"] == 1
        assert ray.get(ledger.get_order.remote(strip.key)).stage == "held"

        # the merchant SKU arrives: the catalogue maps the line, the order is decided again
        httpx.post(f"{erp.url}/_control/catalogue",
                   json={"skus": [{"sku": "LT-STRIP-5M", "name": "灯带"}]}).raise_for_status()
        assert wait_until(lambda: ray.get(ledger.get_order.remote(strip.key)).stage == "routed")
        view = ray.get(ledger.get_order.remote(strip.key))
        assert view.decision.extra["skus"] == "LT-STRIP-5M*2"
        assert view.decision.extra["redecides"] == "unmapped_sku"
        stats = ray.get(router.stats.remote())
        assert stats["catalogue_version"] == 3 and stats["redecided"] == 1
        assert [e.stage for e in view.timeline] == ["received", "validated", "scored", "held",
                                                    "validated", "scored", "routed"]
        assert ray.get(ledger.get_order.remote(desk.key)).stage == "routed"  # untouched
