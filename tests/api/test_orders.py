"""Order look-up: by order id, tracking number and phone tail; masking; explanation; ETA."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.seed import PHONES, TRACKING


def test_search_by_order_id_shows_stage_tracking_and_explanation(hub):
    shipped = hub.seeded.orders["shipped"]
    r = hub.client.get("/api/orders", params={"q": shipped.order_id})
    assert r.status_code == 200
    body = r.json()
    assert body["matched_by"] == "order_id"
    [found] = body["results"]
    assert (found["channel"], found["order_id"]) == ("tmall", shipped.order_id)
    assert found["stage"] == "shipped"
    assert found["tracking_no"] == TRACKING
    assert found["lane"] == "P3"
    decision = found["decision"]
    assert decision["ruleset_version"] == 1
    # dimension scores: normal order 40, normal tier 30, default region 40, unknown stock 50
    assert decision["breakdown"] == {"order_type": 40.0, "customer_tier": 30.0, "region": 40.0,
                                     "inventory": 50.0}
    assert decision["score"] == 38.0  # 0.35*40 + 0.30*30 + 0.25*40 + 0.10*50
    assert [e["stage"] for e in found["timeline"]] == [
        "received", "validated", "scored", "routed", "dispatched", "picked", "packed", "shipped"]
    assert found["timeline"][-1]["tracking_no"] == TRACKING
    assert found["eta"]["state"] == "done"


def test_search_by_tracking_number_and_phone_tail(hub):
    by_tracking = hub.client.get("/api/orders", params={"q": TRACKING}).json()
    assert by_tracking["matched_by"] == "tracking_no"
    assert [o["order_id"] for o in by_tracking["results"]] == [
        hub.seeded.orders["shipped"].order_id]
    by_phone = hub.client.get("/api/orders", params={"q": PHONES["fast"][-4:]}).json()
    assert by_phone["matched_by"] == "phone_tail"
    assert [o["order_id"] for o in by_phone["results"]] == [hub.seeded.orders["fast"].order_id]
    nothing = hub.client.get("/api/orders", params={"q": "0000"}).json()
    assert (nothing["matched_by"], nothing["results"]) == (None, [])


def test_phone_and_street_are_masked(hub):
    r = hub.client.get("/api/orders", params={"q": PHONES["held"][-4:]})
    assert r.status_code == 200
    receiver = r.json()["results"][0]["order"]["receiver"]
    assert receiver["phone"] == "*******3333"
    assert receiver["detail"].startswith("文三") and "100号" not in receiver["detail"]
    assert receiver["street"] == "西溪**"
    assert receiver["name"] == "张*"
    for secret in (PHONES["held"], "文三路100号5幢301室", "张三"):
        assert secret not in r.text


def test_rule_explanation_names_the_rule_that_fired(hub):
    r = hub.client.get(f"/api/orders/{hub.key_path('fast')}")
    assert r.status_code == 200
    found = r.json()
    assert found["lane"] == "P0"
    assert found["decision"]["rules_fired"] == ["vip-same-city-fast"]
    assert found["decision"]["packing_group"] == "same-city"
    # live_flash 100*.35 + plus 100*.3 + same_city 100*.25 + unknown stock 50*.1
    assert found["decision"]["score"] == 95.0


def test_expected_completion_from_recent_stage_durations(hub):
    now = hub.seeded.clock.now()
    fast = hub.client.get(f"/api/orders/{hub.key_path('fast')}").json()
    # picked since t0+15 (105 s ago); P0 has no picked->packed figure yet, so all lanes':
    # picked->packed 30 s (already over), packed->shipped 40 s -> 40 s from now
    assert fast["eta"]["state"] == "estimated"
    assert fast["eta"]["remaining_s"] == 40.0
    assert datetime.fromisoformat(fast["eta"]["expected_at"]) == now + timedelta(seconds=40)
    routed = hub.client.get(f"/api/orders/{hub.key_path('open')}").json()
    # P3: routed->dispatched 8 s (over), dispatched->picked 20, picked->packed 30, ->shipped 40
    assert routed["eta"]["remaining_s"] == 90.0
    held = hub.client.get(f"/api/orders/{hub.key_path('held')}").json()
    assert (held["eta"]["state"], held["eta"]["expected_at"]) == ("held", None)


def test_unknown_order_is_404_and_bad_query_is_422(hub):
    assert hub.client.get("/api/orders/tmall/flagship/NOPE").status_code == 404
    assert hub.client.get("/api/orders", params={"q": ""}).status_code == 422
