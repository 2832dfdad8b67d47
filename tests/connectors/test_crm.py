"""CrmClient with httpx.MockTransport: batch lookups."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from hub.connectors.backoffice import BackOfficeUnavailable
from hub.connectors.crm import CrmClient


def test_lookup_dedupes_batches_and_keeps_unknown_tiers_open() -> None:
    asked: list[list[str]] = []

    def crm(request: httpx.Request) -> httpx.Response:
        ids = orjson.loads(request.content)["buyer_ids"]
        asked.append(ids)
        return httpx.Response(200, json={"customers": {
            i: {"tier": "vip", "tags": ["t"], "known": True} if i.startswith("v")
            else {"tier": "normal", "tags": [], "known": False} for i in ids}})

    client = CrmClient("http://crm.test", transport=httpx.MockTransport(crm))
    client.batch = 3
    found = asyncio.run(client.lookup(["v1", "x2", "v1", "v3", "x4"]))
    assert asked == [["v1", "x2", "v3"], ["x4"]]
    assert found == {"v1": {"tier": "vip", "tags": ("t",)}, "x2": {"tier": None, "tags": ()},
                     "v3": {"tier": "vip", "tags": ("t",)}, "x4": {"tier": None, "tags": ()}}
    assert client.stats["buyers"] == 4


def test_a_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(BackOfficeUnavailable, match="ReadTimeout"):
        asyncio.run(CrmClient("http://crm.test", transport=httpx.MockTransport(slow))
                    .lookup(["b1"]))


def test_repr_names_the_address_only() -> None:
    assert repr(CrmClient("http://crm.test/")) == "CrmClient(base_url='http://crm.test')"
