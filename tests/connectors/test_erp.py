"""ErpClient over httpx with respx: inventory snapshot and order sync."""

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


def _erp() -> ErpClient:
    """A client speaking through httpx, which respx intercepts."""
    return ErpClient("http://erp.test", transport=httpx.AsyncHTTPTransport())


@respx.mock
def test_inventory_sums_warehouses_and_filters() -> None:
    route = respx.get("http://erp.test/inventory").mock(
        return_value=httpx.Response(200, json={"taken_at": "x", "items": ROWS}))
    erp = _erp()
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
    results = asyncio.run(_erp().sync_orders(
        [{"key": "k1", "channel": "jd", "order_id": "J1", "items": []}]))
    assert results[0]["short"] == [{"sku": "A", "missing": 2}]
    assert orjson.loads(route.calls[0].request.content)["orders"][0]["key"] == "k1"


@respx.mock
def test_sync_errors_are_typed() -> None:
    respx.post("http://erp.test/orders/sync").mock(side_effect=[
        httpx.Response(502), httpx.Response(400, json={"problems": ["orders: a list"]})])
    erp = _erp()
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


LISTING = {"channel": "jd", "shop": "", "item_id": "100012345600", "sku_id": "100012345678",
           "components": [{"sku": "LT-DESK-12W", "quantity": 1}]}


@respx.mock
def test_catalogue_reads_every_page_since_a_version() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={
            "version": 9, "page": page, "pages": 3,
            "skus": [{"sku": "LT-DESK-12W", "name": "台灯"}] if page == 1 else [],
            "listings": [{**LISTING, "sku_id": f"10001234567{page}"}]})

    route = respx.get("http://erp.test/catalogue").mock(side_effect=answer)
    got = asyncio.run(_erp().catalogue(since=4, page_size=1))
    assert got["version"] == 9 and got["skus"] == [{"sku": "LT-DESK-12W", "name": "台灯"}]
    assert [entry["sku_id"] for entry in got["listings"]] == [
        "100012345671", "100012345672", "100012345673"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"since": "4", "page": str(n), "page_size": "1"} for n in (1, 2, 3)]


@respx.mock
def test_catalogue_read_again_when_the_version_moves_while_paging() -> None:
    versions = iter([5, 6, 6, 6])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"version": next(versions), "pages": 2,
                                         "skus": [], "listings": [LISTING]})

    route = respx.get("http://erp.test/catalogue").mock(side_effect=answer)
    got = asyncio.run(_erp().catalogue())
    assert got["version"] == 6 and len(got["listings"]) == 2 and route.call_count == 4


@respx.mock
def test_an_erp_without_a_catalogue_answers_none_and_other_refusals_raise() -> None:
    respx.get("http://erp.test/catalogue").mock(
        return_value=httpx.Response(404, json={"detail": "Not Found"}))
    assert asyncio.run(_erp().catalogue()) is None
    respx.get("http://erp.test/catalogue").mock(
        return_value=httpx.Response(422, json={"problems": ["page_size: at most 500"]}))
    with pytest.raises(BackOfficeRejected, match="page_size"):
        asyncio.run(_erp().catalogue(page_size=900))
