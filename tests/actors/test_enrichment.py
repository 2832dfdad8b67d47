from datetime import timedelta

import pytest
from pydantic import ValidationError

from hub.actors.enrichment import CustomerCache, InventoryView, RecentOrders
from hub.config import PoolConfig
from hub.domain.order import Item
from tests.factories import T0, order


def test_customer_cache_merges_tier_and_tags_and_expires() -> None:
    now = [0.0]
    cache = CustomerCache(ttl_s=60, monotonic=lambda: now[0])
    orders = [order(1), order(2)]
    assert cache.missing(o.buyer.id for o in orders) == ["buyer-1", "buyer-2"]
    cache.put({"buyer-1": {"tier": "plus", "tags": ["new_first_order"]}})
    enriched = cache.apply(orders)
    assert enriched[0].buyer.tier == "plus"
    assert enriched[0].buyer.tags == ("new_first_order",)
    assert enriched[1] is orders[1]  # unknown buyer: the order is untouched
    assert cache.missing(["buyer-1"]) == []
    now[0] = 61.0
    assert cache.missing(["buyer-1"]) == ["buyer-1"]


def test_inventory_is_drawn_down_by_paid_orders_until_refreshed() -> None:
    view = InventoryView()
    view.refresh({"SKU-1": 5}, at=0.0)
    view.draw([order(1), order(8, status="unpaid")])  # SKU-1, quantity 2; the unpaid one not
    assert view.current() == {"SKU-1": 3}
    view.refresh({"SKU-1": 10}, at=1.0)
    assert view.current() == {"SKU-1": 10}


def test_what_a_batch_took_is_drawn_and_what_is_taken_while_asking_counts_again() -> None:
    view = InventoryView()
    view.refresh({"LT-DESK-12W": 10, "LT-BULB-E27-9W": 7}, at=0.0)
    view.take({"LT-DESK-12W": 4})
    assert view.current({"LT-DESK-12W"}) == {"LT-DESK-12W": 6}
    view.asking()  # the ERP is asked for a new snapshot; a batch draws meanwhile
    view.take({"LT-BULB-E27-9W": 6})
    assert view.current() == {"LT-DESK-12W": 6, "LT-BULB-E27-9W": 1}
    view.refresh({"LT-DESK-12W": 6, "LT-BULB-E27-9W": 7}, at=1.0)
    assert view.current() == {"LT-DESK-12W": 6, "LT-BULB-E27-9W": 1}  # not yet in the ERP's
    view.refresh({"LT-DESK-12W": 6, "LT-BULB-E27-9W": 1}, at=2.0)
    assert view.current() == {"LT-DESK-12W": 6, "LT-BULB-E27-9W": 1}


def test_a_batch_gets_the_stock_of_its_own_skus_and_decides_as_with_all() -> None:
    from hub.domain.priority import stock_states

    view = InventoryView()
    view.refresh({f"SKU-{n}": n for n in range(7)} | {f"OTHER-{n}": 9 for n in range(500)},
                 at=0.0)
    view.draw([order(2), order(3)])
    batch = [order(n) for n in range(1, 30)] + [order(40, items=(
        Item(sku="NOT-IN-ERP", quantity=1, price_fen=100),))]
    skus = {i.sku for o in batch for i in o.items}
    part = view.current(skus)
    assert set(part) == {f"SKU-{n}" for n in range(7)}
    assert part == {k: v for k, v in view.current().items() if k in skus}
    assert stock_states(batch, part, 3) == stock_states(batch, view.current(), 3)
    assert view.current({"NOT-IN-ERP"}) == {}


def test_recent_orders_forget_what_left_the_window() -> None:
    recent = RecentOrders(timedelta(minutes=30))
    recent.add([order(1), order(2, created_at=T0 + timedelta(minutes=20))])
    kept = recent.snapshot(T0 + timedelta(minutes=40))
    assert [o.order_id for o in kept] == ["T100002"]


def test_recent_orders_are_handed_out_for_the_batch_buyers_only() -> None:
    recent = RecentOrders(timedelta(minutes=30), limit=3)
    recent.add([order(n) for n in (1, 2, 3)] + [order(4, buyer=order(2).buyer)])
    assert len(recent) == 3  # over the limit: the oldest is forgotten
    assert [o.order_id for o in recent.snapshot(T0, {"buyer-2", "nobody"})] == \
        ["T100002", "T100004"]
    assert [o.order_id for o in recent.snapshot(T0, {"buyer-1"})] == []
    assert len(recent.snapshot(T0)) == 3


def test_the_sample_hub_config_loads() -> None:
    from pathlib import Path

    from hub.config import HubSettings

    settings = HubSettings.load(Path(__file__).parents[2] / "examples" / "hub.toml")
    assert [c.channel.value for c in settings.channels] == ["tmall", "jd", "douyin"]
    assert settings.back_office.wms_url.startswith("http://127.0.0.1:")


def test_the_router_keeps_as_many_recent_orders_as_configured() -> None:
    from hub.actors.router import Router
    from hub.domain.rules import default_ruleset

    rules = default_ruleset()
    router = Router(None, None, None, (rules.version, rules.text),
                    PoolConfig(recent_orders_max=3))
    router.recent.add([order(n) for n in range(5)])
    assert len(router.recent) == 3
    with pytest.raises(ValidationError, match="recent_orders_max"):
        PoolConfig(recent_orders_max=0)
