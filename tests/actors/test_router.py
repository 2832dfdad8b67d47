"""The router on real Ray actors: batches in, decisions, events and outbox rows out."""

import time
from datetime import timedelta

import pytest

from hub.actors.handles import LedgerHandle
from hub.actors.pool import BatchPool
from hub.actors.router import Router
from hub.actors.workers import Scorer, Validator
from hub.config import PoolConfig
from hub.domain.order import Receiver
from hub.domain.rules import default_ruleset
from hub.ledger import StageEvent
from hub.ledger.service import LedgerService
from tests.factories import order

pytestmark = pytest.mark.ray


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_router_decides_every_order_once_and_holds_anomalies(ray_session, tmp_path) -> None:
    ray = ray_session
    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    rules = default_ruleset()
    router = ray.remote(Router).options(max_concurrency=16).remote(
        LedgerHandle(ledger), BatchPool(ray.remote(Validator), 2), BatchPool(ray.remote(Scorer), 1),
        (rules.version, rules.text), PoolConfig(batch_max=100, batch_ms=10))
    bad = Receiver(name="李四", phone="123", province="浙江省", city="杭州市", district="",
                   street="", detail="杭州")
    orders = [order(i) for i in range(250)] + [order(1000, receiver=bad)]
    new = ray.get(ledger.ingest.remote(orders, None))
    assert len(new) == len(orders)
    ray.get(router.submit.remote(new))
    ray.get(router.submit.remote(new))  # the same versions again: not decided twice
    assert _wait(lambda: ray.get(router.stats.remote())["decided"] >= len(orders))
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
    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    rules = default_ruleset()
    router = ray.remote(Router).options(max_concurrency=16).remote(
        LedgerHandle(ledger), BatchPool(ray.remote(Validator), 1), BatchPool(ray.remote(Scorer), 1),
        (rules.version, rules.text), PoolConfig(batch_max=50, batch_ms=10),
        redrive_every_s=0.2, redrive_after_s=0.0)
    lost = ray.get(ledger.ingest.remote([order(i) for i in range(120)], None))
    ray.get(router.start.remote())
    fresh = ray.get(ledger.ingest.remote([order(i) for i in range(500, 560)], None))
    ray.get(router.submit.remote(fresh))
    everything = len(lost) + len(fresh)
    assert _wait(lambda: ray.get(ledger.call.remote("counts"))["stages"].get("routed", 0)
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

    assert _wait(decided_at_new_version)
    assert {ray.get(ledger.get_order.remote(key)).stage for key in with_wms} == {"dispatched"}
    assert ray.get(ledger.call.remote("undecided_orders", 0.0)) == []
