"""Open anomalies and operator actions: release, cancel, edit address and re-check; each
recorded with who did it; refused without a valid token."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH, make_hub

GOOD_ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
                "street": "西溪街道", "detail": "文三路100号5幢301室"}


def test_open_anomalies_by_reason_and_group(hub):
    body = hub.client.get("/api/anomalies").json()
    assert body["total"] == 1
    assert [(g["reason"], g["group"], g["count"]) for g in body["groups"]] == [
        ("incomplete_address", "cs-address", 1)]
    [held] = body["orders"]
    assert held["order_id"] == hub.seeded.orders["held"].order_id
    assert held["reasons"] == ["incomplete_address"] and held["groups"] == ["cs-address"]
    assert held["receiver"]["phone"].endswith("3333") and "*" in held["receiver"]["phone"]
    other = hub.client.get("/api/anomalies", params={"reason": "payment_mismatch"}).json()
    assert (other["total"], other["orders"]) == (0, [])


@pytest.mark.parametrize("action,body", [("release", {"note": "x"}), ("cancel", {"note": "x"}),
                                         ("address", GOOD_ADDRESS)])
def test_changes_are_refused_without_a_valid_token(hub, action, body):
    url = f"/api/orders/{hub.key_path('held')}/{action}"
    missing = hub.client.post(url, json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = hub.client.post(url, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert hub.ledger.get_order(hub.seeded.orders["held"].key).stage == "held"


def test_no_configured_token_disables_changes(tmp_path):
    for hub in make_hub(tmp_path, token=""):
        r = hub.client.post(f"/api/orders/{hub.key_path('held')}/release", json={},
                            headers=AUTH)
        assert r.status_code == 403
        assert "no api.token" in r.json()["detail"]


def test_release_records_who_and_the_note_and_owes_the_wms(hub):
    pending = hub.ledger.pending_count()
    r = hub.client.post(f"/api/orders/{hub.key_path('held')}/release",
                        json={"note": "buyer confirmed by phone"}, headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["action"], out["stage"], out["by"], out["released"]) == (
        "release", "released", "alice", True)
    view = hub.ledger.get_order(hub.seeded.orders["held"].key)
    assert view.stage == "released"
    last = view.timeline[-1]
    assert (last.stage, last.detail["by"], last.detail["note"]) == (
        "released", "alice", "buyer confirmed by phone")
    assert hub.ledger.pending_count() == pending + 1  # the WMS dispatch row
    assert hub.client.get("/api/anomalies").json()["total"] == 0
    again = hub.client.post(f"/api/orders/{hub.key_path('held')}/release", json={},
                            headers=AUTH)
    assert again.status_code == 409


def test_second_user_token_names_that_user(hub):
    r = hub.client.post(f"/api/orders/{hub.key_path('open')}/cancel", json={"note": "dup"},
                        headers={"Authorization": "Bearer other-token"})
    assert r.status_code == 200
    assert r.json()["by"] == "bob"


def test_cancel_before_the_warehouse_only(hub):
    r = hub.client.post(f"/api/orders/{hub.key_path('open')}/cancel",
                        json={"note": "buyer asked"}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["stage"] == "cancelled"
    view = hub.ledger.get_order(hub.seeded.orders["open"].key)
    assert (view.stage, view.timeline[-1].detail["by"]) == ("cancelled", "alice")
    shipped = hub.client.post(f"/api/orders/{hub.key_path('shipped')}/cancel", json={},
                              headers=AUTH)
    assert shipped.status_code == 409
    assert hub.ledger.get_order(hub.seeded.orders["shipped"].key).stage == "shipped"


def test_edit_address_and_recheck_releases_a_clean_order(hub):
    key = hub.seeded.orders["held"].key
    r = hub.client.post(f"/api/orders/{hub.key_path('held')}/address",
                        json={**GOOD_ADDRESS, "note": "district added"}, headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["released"], out["reasons"], out["stage"]) == (True, [], "released")
    view = hub.ledger.get_order(key)
    assert view.order.receiver.district == "西湖区"
    assert view.decision.hold_reason is None and view.decision.ruleset_version == 1
    assert view.timeline[-1].detail["by"] == "alice"
    assert view.timeline[-1].detail["action"] == "edit_address"


def test_edit_address_that_is_still_bad_stays_held_with_the_new_reasons(hub):
    key = hub.seeded.orders["held"].key
    r = hub.client.post(f"/api/orders/{hub.key_path('held')}/address",
                        json={**GOOD_ADDRESS, "city": "深圳市", "phone": "12345"},
                        headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["released"] is False and out["stage"] == "held"
    # Shenzhen is not in Zhejiang, and 12345 is no mobile number
    assert set(out["reasons"]) == {"incomplete_address", "invalid_phone"}
    view = hub.ledger.get_order(key)
    assert view.stage == "held" and view.order.receiver.city == "深圳市"
    assert hub.client.get("/api/anomalies").json()["total"] == 1


def test_address_edit_is_checked(hub):
    r = hub.client.post(f"/api/orders/{hub.key_path('held')}/address",
                        json={"province": "浙江省"}, headers=AUTH)
    assert r.status_code == 422
    fields = {e["loc"][-1] for e in r.json()["detail"]}
    assert {"city", "detail"} <= fields
