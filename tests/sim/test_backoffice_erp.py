"""ERP emulator over loopback: stock per SKU and warehouse falls as orders are
dispatched to the WMS or synced, once per order."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.clock import ManualClock
from hub.connectors.backoffice import BackOfficeRejected
from hub.connectors.erp import ErpClient
from hub.connectors.wms import WmsClient
from hub.domain.order import SHANGHAI
from sim.emulators.erp import ErpConfig, ErpEmulator
from sim.emulators.wms import WmsEmulator
from tests.sim.backoffice_helpers import Blocking, local_sync_http

T0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
STOCK = ErpConfig(warehouses=["WH-HZ", "WH-GZ"],
                  stock={"LAMP": 5, "BULB": {"WH-HZ": 2, "WH-GZ": 10}})

HTTP = local_sync_http()  # one pool for the whole module


def order(n: int, items: dict[str, int], **changes) -> dict:
    return {"key": f"k{n}", "channel": "jd", "shop": "s", "order_id": f"J{n}",
            "lane": "P1", "items": [{"sku": s, "quantity": q} for s, q in items.items()],
            **changes}


def test_stock_falls_as_the_wms_takes_orders_and_conflicts_show() -> None:
    clock = ManualClock(T0)
    with ErpEmulator(clock, STOCK) as erp, \
            WmsEmulator(clock, on_dispatch=erp.state.on_dispatch) as wms, \
            Blocking(ErpClient, erp.url) as erp_client, Blocking(WmsClient, wms.url) as wms_client:
        before = erp_client.inventory()
        wms_client.dispatch([order(1, {"LAMP": 2}), order(2, {"LAMP": 2, "BULB": 1})])
        wms_client.dispatch([order(1, {"LAMP": 2})])  # a re-sent dispatch draws nothing
        middle = erp_client.inventory()
        wms_client.dispatch([order(3, {"LAMP": 4, "NOT-TRACKED": 9})])  # only 1 LAMP left
        after = erp_client.inventory()
        stats = HTTP.get(f"{erp.url}/_stats").json()["erp"]
    assert before == {"LAMP": 5, "BULB": 12}
    assert middle == {"LAMP": 1, "BULB": 11}
    assert after == {"LAMP": 0, "BULB": 11}
    assert stats["counts"]["oversold_units"] == 3
    assert stats["counts"]["drawn_on_dispatch"] == 3
    assert stats["out_of_stock"] == 1


def test_sync_is_idempotent_reports_shortage_and_follows_the_warehouse_hint() -> None:
    clock = ManualClock(T0)
    with ErpEmulator(clock, STOCK) as erp, Blocking(ErpClient, erp.url) as client:
        first = client.sync_orders([order(1, {"BULB": 3}, warehouse_hint="WH-HZ"),
                                    order(2, {"BULB": 4})])
        again = client.sync_orders([order(1, {"BULB": 3}, warehouse_hint="WH-HZ")])
        rows = {(r["sku"], r["warehouse"]): r for r in client.inventory_rows()}
        only_gz = client.inventory("WH-GZ")
    assert first[0]["short"] == [{"sku": "BULB", "missing": 1}]  # WH-HZ had 2
    assert first[1]["short"] == []  # no hint: from WH-GZ, which holds most
    assert again[0]["status"] == "duplicate"
    assert again[0]["erp_order_no"] == first[0]["erp_order_no"]
    assert rows[("BULB", "WH-HZ")]["available"] == 0
    assert rows[("BULB", "WH-HZ")]["drawn"] == 2
    assert rows[("BULB", "WH-GZ")]["available"] == 6
    assert only_gz == {"BULB": 6}


def test_an_order_synced_first_is_not_drawn_again_on_dispatch() -> None:
    clock = ManualClock(T0)
    with ErpEmulator(clock, STOCK) as erp, \
            WmsEmulator(clock, on_dispatch=erp.state.on_dispatch) as wms, \
            Blocking(ErpClient, erp.url) as erp_client, Blocking(WmsClient, wms.url) as wms_client:
        erp_client.sync_orders([order(1, {"LAMP": 2})])
        wms_client.dispatch([order(1, {"LAMP": 2}) | {"key": "wms:jd:s:J1"}])
        assert erp_client.inventory()["LAMP"] == 3


def test_bad_lines_and_stock_control() -> None:
    clock = ManualClock(T0)
    with ErpEmulator(clock, STOCK) as erp, Blocking(ErpClient, erp.url) as client:
        with pytest.raises(BackOfficeRejected) as refused:
            client.sync_orders([order(1, {"LAMP": 1}), {"key": "k2", "channel": "jd"}])
        set_ok = HTTP.post(f"{erp.url}/_control/stock", json={"stock": {"NEW": {"WH-GZ": 7}}})
        set_bad = HTTP.post(f"{erp.url}/_control/stock", json={"stock": {"X": {"WH-XX": 1}}})
        stock = client.inventory()
    assert refused.value.rejected == ["k2"]
    assert "orders[1].order_id" in refused.value.problems[0]
    assert stock == {"LAMP": 4, "BULB": 12, "NEW": 7}
    assert set_ok.status_code == 200
    assert set_bad.status_code == 400 and "WH-XX" in set_bad.json()["problems"][0]


def test_config_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match=r"stock\.LAMP: unknown warehouse 'WH-SH'"):
        ErpConfig(stock={"LAMP": {"WH-SH": 1}})


# -- the catalogue (issue #20) ------------------------------------------------------------------
CEIL_SET = {"channel": "tmall", "shop": "", "item_id": "612345678901", "sku_id": "5123456789012",
            "components": [{"sku": "LAMP", "quantity": 1}, {"sku": "BULB", "quantity": 3}]}


def _listing(n: int, sku: str = "LAMP", quantity: int = 1, **over) -> dict:
    return {"channel": "jd", "shop": "s", "item_id": f"1{n:010d}", "sku_id": f"1{n:011d}",
            "components": [{"sku": sku, "quantity": quantity}]} | over


CATALOGUE = ErpConfig(warehouses=["WH-HZ", "WH-GZ"],
                      stock={"LAMP": 5, "BULB": {"WH-HZ": 2, "WH-GZ": 10}},
                      catalogue={"skus": [{"sku": "LAMP", "name": "吸顶灯"},
                                          {"sku": "BULB", "name": "球泡灯"}],
                                 "listings": [CEIL_SET, *(_listing(n) for n in range(5))]})


def test_the_catalogue_comes_in_pages_with_its_version_and_skus_on_page_one() -> None:
    with ErpEmulator(ManualClock(T0), CATALOGUE) as erp:
        first = HTTP.get(f"{erp.url}/catalogue", params={"page_size": 4}).json()
        second = HTTP.get(f"{erp.url}/catalogue", params={"page_size": 4, "page": 2}).json()
        beyond = HTTP.get(f"{erp.url}/catalogue", params={"page_size": 4, "page": 3}).json()
        too_big = HTTP.get(f"{erp.url}/catalogue", params={"page_size": 501})
        page_0 = HTTP.get(f"{erp.url}/catalogue", params={"page": 0})
    assert (first["version"], first["page"], first["pages"], first["total"]) == (1, 1, 2, 6)
    assert first["skus"] == [{"sku": "BULB", "name": "球泡灯"}, {"sku": "LAMP", "name": "吸顶灯"}]
    assert "skus" not in second and len(first["listings"]) == 4 and len(second["listings"]) == 2
    got = first["listings"] + second["listings"]
    assert sorted(map(str, got)) == sorted(map(str, CATALOGUE.catalogue["listings"]))
    assert next(x for x in got if x["sku_id"] == CEIL_SET["sku_id"]) == CEIL_SET
    assert beyond["listings"] == [] and beyond["pages"] == 2
    assert too_big.status_code == 400 and "page_size 1 to 500" in too_big.text
    assert page_0.status_code == 400


def test_a_change_bumps_the_version_and_since_answers_only_what_changed() -> None:
    with ErpEmulator(ManualClock(T0), CATALOGUE) as erp:
        url = f"{erp.url}/catalogue"
        unchanged = HTTP.get(url, params={"since": 1}).json()
        late = _listing(9, "BULB", 2)
        moved = _listing(0, "BULB", 1)  # the same listing key, now another SKU
        answer = HTTP.post(f"{erp.url}/_control/catalogue", json={
            "listings": [late, moved], "skus": [{"sku": "STRIP", "name": "灯带"}]}).json()
        since_1 = HTTP.get(url, params={"since": 1}).json()
        since_2 = HTTP.get(url, params={"since": 2}).json()
        everything = HTTP.get(url).json()
        bad = HTTP.post(f"{erp.url}/_control/catalogue", json={"listings": [
            {"channel": "jd", "components": [{"sku": "LAMP", "quantity": "two"}]}]})
        after_bad = HTTP.get(url, params={"since": 2}).json()
        records = HTTP.get(f"{erp.url}/_records").json()["catalogue"]
    assert unchanged["version"] == 1 and unchanged["listings"] == []
    assert answer["catalogue"] == {"version": 2, "skus": 3, "listings": 7}
    assert since_1["version"] == 2 and since_1["total"] == 2
    assert sorted(x["sku_id"] for x in since_1["listings"]) == sorted(
        [late["sku_id"], moved["sku_id"]])
    assert next(x for x in since_1["listings"] if x["sku_id"] == moved["sku_id"]) == moved
    assert since_1["skus"][-1] == {"sku": "STRIP", "name": "灯带"} and since_2["listings"] == []
    assert everything["total"] == 7
    assert bad.status_code == 400 and "catalogue.listings.0.components.0.quantity" in bad.text
    assert after_bad["version"] == 2  # a refused change changes nothing
    assert [(r["version"], r["source"], len(r["listings"])) for r in records] == [
        (1, "config", 6), (2, "control", 2)]
    assert records[1]["listings"][0] == late and records[1]["at"] == T0.isoformat()


def test_the_erp_keeps_an_entry_the_hub_must_refuse() -> None:
    """Well-typed but wrong (an empty bundle, a quantity of 0, an unknown SKU): the ERP
    serves it as given; refusing it is the hub's job."""
    odd = [_listing(1, "NOPE"), _listing(2, "LAMP", 0), _listing(3) | {"components": []}]
    with ErpEmulator(ManualClock(T0)) as erp:
        assert HTTP.post(f"{erp.url}/_control/catalogue",
                         json={"listings": odd}).status_code == 200
        served = HTTP.get(f"{erp.url}/catalogue").json()
    assert served["version"] == 1 and sorted(map(str, served["listings"])) == sorted(
        map(str, odd))


def test_inventory_is_per_merchant_sku_and_drawn_by_merchant_or_mapped_platform_sku() -> None:
    clock = ManualClock(T0)
    with ErpEmulator(clock, CATALOGUE) as erp, \
            WmsEmulator(clock, on_dispatch=erp.state.on_dispatch) as wms, \
            Blocking(ErpClient, erp.url) as erp_client, Blocking(WmsClient, wms.url) as wms_client:
        before = erp_client.inventory()
        # a hub that expands: merchant SKUs
        wms_client.dispatch([order(1, {"LAMP": 1, "BULB": 3})])
        after_merchant = erp_client.inventory()
        # an older hub: the platform SKU id of a bundle (Tmall, listed for every shop) ...
        wms_client.dispatch([order(2, {CEIL_SET["sku_id"]: 1}, channel="tmall", shop="t")])
        after_bundle = erp_client.inventory()
        # ... of a JD 1-lamp listing of shop "s", and of one the ERP does not know
        wms_client.dispatch([order(3, {_listing(2)["sku_id"]: 2, "999": 1})])
        after_listing = erp_client.inventory()
        # not in the catalogue, but its outer code names the merchant SKU
        line = {"sku": "5999999999999", "outer_sku": "BULB", "quantity": 2}
        wms_client.dispatch([order(4, {}, channel="tmall") | {"items": [line]}])
        last = erp_client.inventory()
        rows = {r["sku"] for r in erp_client.inventory_rows()}
    assert before == {"LAMP": 5, "BULB": 12} and rows == {"LAMP", "BULB"}
    assert after_merchant == {"LAMP": 4, "BULB": 9}
    assert after_bundle == {"LAMP": 3, "BULB": 6}
    assert after_listing == {"LAMP": 1, "BULB": 6}
    assert last == {"LAMP": 1, "BULB": 4}


def test_a_listing_of_another_shop_does_not_map_and_sync_maps_too() -> None:
    with ErpEmulator(ManualClock(T0), CATALOGUE) as erp, Blocking(ErpClient, erp.url) as client:
        other = client.sync_orders([order(1, {_listing(1)["sku_id"]: 1}, shop="other")])
        own = client.sync_orders([order(2, {_listing(1)["sku_id"]: 2})])
        left = client.inventory()
    assert other[0]["short"] == [] and own[0]["short"] == []
    assert left == {"LAMP": 3, "BULB": 12}


def test_a_bad_catalogue_in_the_config_is_named() -> None:
    with pytest.raises(ValueError, match=r"catalogue\.listings\.0\.components: Field required"):
        ErpConfig(catalogue={"listings": [{"channel": "jd", "sku_id": "1"}]})
