"""CRM emulator over loopback: batch lookups of many buyers."""

from __future__ import annotations

import pytest

from hub.clock import Clock
from hub.connectors.backoffice import BackOfficeRejected
from hub.connectors.crm import CrmClient
from hub.domain.order import Buyer
from sim.emulators.crm import CrmConfig, CrmEmulator, Profile
from tests.factories import order
from tests.sim.backoffice_helpers import Blocking, local_sync_http

HTTP = local_sync_http()  # one pool for the whole module


def test_batch_lookup_of_many_buyers() -> None:
    known = {f"b{n}": Profile(tier="vip" if n % 2 else "plus", tags=[f"t{n}"])
             for n in range(0, 1200, 3)}
    with CrmEmulator(Clock(), CrmConfig(customers=known)) as crm, \
            Blocking(CrmClient, crm.url) as client:
        ids = [f"b{n}" for n in range(1200)]
        found = client.lookup(ids + ids[:10])  # repeats are asked once
        calls = client.client.stats["calls"]
        wire = HTTP.post(f"{crm.url}/customers/lookup",
                          json={"buyer_ids": ["b3", "nobody"]}).json()["customers"]
        one = HTTP.get(f"{crm.url}/customers/b6").json()
        stats = HTTP.get(f"{crm.url}/_stats").json()
    assert len(found) == 1200
    assert calls == 3  # 500 ids a call
    assert found["b3"] == {"tier": "vip", "tags": ("t3",)}
    assert found["b6"] == {"tier": "plus", "tags": ("t6",)}
    assert found["b1"] == {"tier": None, "tags": ()}  # unknown: the hub keeps its own
    assert wire["nobody"] == {"tier": "normal", "tags": [], "known": False}
    assert wire["b3"]["known"] is True
    assert one == {"buyer_id": "b6", "tier": "plus", "tags": ["t6"], "known": True}
    assert stats["crm"]["customers"] == 400
    assert stats["stats"]["buyers_looked_up"] == 1202


def test_seeded_from_a_traces_buyers_without_overriding_the_config() -> None:
    crm = CrmEmulator(Clock(), CrmConfig(customers={"buyer-1": Profile(tier="svip")}))
    orders = [order(1), order(2, buyer=Buyer(id="buyer-2", tier="plus",
                                             tags=("new_first_order",)))]
    added = crm.state.seed_orders(orders)
    assert added == 1
    assert crm.state.lookup(["buyer-1", "buyer-2"]) == {
        "buyer-1": {"tier": "svip", "tags": [], "known": True},
        "buyer-2": {"tier": "plus", "tags": ["new_first_order"], "known": True}}


def test_too_big_or_bad_batches_are_refused() -> None:
    with CrmEmulator(Clock(), CrmConfig(max_batch=10)) as crm, \
            Blocking(CrmClient, crm.url) as client:
        with pytest.raises(BackOfficeRejected) as too_big:
            client.lookup([f"b{n}" for n in range(11)])
        bad = HTTP.post(f"{crm.url}/customers/lookup", json={"buyer_ids": [1, 2]})
    assert too_big.value.status == 400
    assert "at most 10" in too_big.value.problems[0]
    assert bad.status_code == 400 and "buyer_ids" in bad.json()["problems"][0]
