"""A shadow run on the real router actor: the draft decides every live batch beside the
rules in force and reports the orders it would move, while what is stored, dispatched
and held is exactly what the live rules decide."""

import pytest

from hub.actors.shadow import RouterShadow
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from tests.actors.routers import start_router, wait_until
from tests.app.shadow_cases import candidate_text, mixed_orders

pytestmark = pytest.mark.ray


def _wait(predicate):
    return wait_until(predicate, timeout=60.0)


def test_a_shadow_draft_reports_moved_orders_and_nothing_acts_differently(ray_session,
                                                                          tmp_path):
    ray = ray_session
    live = default_ruleset()
    ledger, router = start_router(ray, tmp_path, rules=live, redrive_every_s=0)
    shadow = RouterShadow(router)
    assert shadow.shadow_report(5).running is False
    shadow.start_shadow(9, 2, candidate_text())
    orders, moved, held = mixed_orders()
    new = ray.get(ledger.ingest.remote(orders, None))
    ray.get(router.submit.remote(new))
    assert _wait(lambda: ray.get(router.stats.remote())["committed"] >= len(orders))
    assert _wait(lambda: shadow.shadow_report(5).orders >= len(orders))

    report = shadow.shadow_report(5)
    assert (report.running, report.draft, report.version) == (True, 9, 2)
    assert report.changed == {"lane": 0, "packing_group": moved, "hold": held,
                              "any": moved + held}
    gift = [e for e in report.examples if e.after.packing_group == "live-gift-bench"]
    assert gift and all(e.before.packing_group == "live-new-buyer" and e.channel == "douyin"
                        for e in gift)

    # what was stored, dispatched and held is the live rules' decision, nothing else
    expected = {(d.channel, d.shop, d.order_id): d for d in decide(orders, {}, [], live)}
    for o in orders:
        view = ray.get(ledger.get_order.remote(o.key))
        mine = expected[o.key]
        assert (view.decision.packing_group, view.decision.hold_reason,
                view.decision.ruleset_version) == (mine.packing_group, mine.hold_reason, 1)
        assert view.stage == "routed"
    counts = ray.get(ledger.call.remote("counts"))
    assert counts["stages"] == {"routed": len(orders)}  # no hold: the shadow's jd-review
    assert ray.get(ledger.call.remote("pending_count")) == len(orders)  # one dispatch each
    events = ray.get(ledger.call.remote("events_since"))
    assert sum(e.stage == "routed" for e in events) == len(orders)

    shadow.stop_shadow()
    later, _, _ = mixed_orders(1000)
    ray.get(router.submit.remote(ray.get(ledger.ingest.remote(later, None))))
    assert _wait(lambda: ray.get(router.stats.remote())["committed"] >= 2 * len(orders))
    stopped = shadow.shadow_report(5)
    assert (stopped.running, stopped.orders) == (False, len(orders))
    ray.kill(router)
    ray.kill(ledger)
