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
