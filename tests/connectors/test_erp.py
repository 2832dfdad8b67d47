"""ErpClient with respx: inventory snapshot and order sync."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import respx

from hub.connectors.backoffice import BackOfficeRejected, BackOfficeUnavailable
from hub.connectors.erp import ErpClient

ROWS = [{"sku": "A", "warehouse": "WH-HZ", "available": 3, "drawn": 1},
        {"sku": "A", "warehouse": "WH-GZ", "available": 4, "drawn": 0},
        {"sku": "B", "warehouse": "WH-HZ", "available": 0, "drawn": 9}]


@respx.mock
def test_inventory_sums_warehouses_and_filters() -> None:
    route = respx.get("http://erp.test/inventory").mock(
        return_value=httpx.Response(200, json={"taken_at": "x", "items": ROWS}))
    erp = ErpClient("http://erp.test")
    total = asyncio.run(erp.inventory())
    rows = asyncio.run(erp.inventory_rows("WH-HZ", skus=["A", "B"]))
    assert total == {"A": 7, "B": 0}
    assert rows == ROWS
    assert route.calls[1].request.url.params["warehouse"] == "WH-HZ"
    assert route.calls[1].request.url.params["sku"] == "A,B"
    assert "warehouse" not in route.calls[0].request.url.params


@respx.mock
def test_sync_orders_posts_keys_and_returns_shortages() -> None:
    route = respx.post("http://erp.test/orders/sync").mock(return_value=httpx.Response(
        200, json={"results": [{"key": "k1", "status": "accepted", "erp_order_no": "E1",
                                "short": [{"sku": "A", "missing": 2}]}]}))
    results = asyncio.run(ErpClient("http://erp.test").sync_orders(
        [{"key": "k1", "channel": "jd", "order_id": "J1", "items": []}]))
    assert results[0]["short"] == [{"sku": "A", "missing": 2}]
    assert orjson.loads(route.calls[0].request.content)["orders"][0]["key"] == "k1"


@respx.mock
def test_sync_errors_are_typed() -> None:
    respx.post("http://erp.test/orders/sync").mock(side_effect=[
        httpx.Response(502), httpx.Response(400, json={"problems": ["orders: a list"]})])
    erp = ErpClient("http://erp.test")
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(erp.sync_orders([{"key": "k"}]))
    with pytest.raises(BackOfficeRejected) as refused:
        asyncio.run(erp.sync_orders([{"key": "k"}]))
    assert refused.value.problems == ["orders: a list"]
    with pytest.raises(BackOfficeRejected, match="idempotency key"):
        asyncio.run(erp.sync_orders([{"order_id": "J1"}]))


def test_an_empty_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="erp: base_url is empty"):
        ErpClient("")
