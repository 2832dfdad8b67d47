"""Dead letters on the API: listed for readers without the buyer's data, re-sent by an
operator (one transaction through the writer), refused to others."""

from __future__ import annotations

from datetime import timedelta

from hub.domain.decision import Stage
from hub.ledger import StageEvent
from tests.api.conftest import AUTH, make_hub

ROLES = "olga:operator:tok-op, vic:viewer:tok-viewer"


def dead_letter(hub, name: str = "open") -> int:
    """The order's WMS dispatch refused at its last try (as the relay records it)."""
    ledger, clock = hub.ledger, hub.seeded.clock
    key = hub.seeded.orders[name].key
    [row] = [m for m in ledger.claim(100, 30, clock.now() + timedelta(days=1))
             if m.destination == "wms" and m.order_ref() == key]
    ledger.failed_many([], clock.now(), dead=[(row.id, "rejected by the WMS: orders[0]: x")],
                       events=[StageEvent(key, Stage.DISPATCH_FAILED, clock.now())])
    return row.id


def test_dead_letters_are_listed_without_the_receiver(hub):
    assert hub.client.get("/api/dead-letters").json() == {"total": 0, "items": []}
    row_id = dead_letter(hub)
    body = hub.client.get("/api/dead-letters").json()
    assert body["total"] == 1
    [item] = body["items"]
    o = hub.seeded.orders["open"]
    assert (item["id"], item["order_id"], item["channel"]) == (row_id, o.order_id, "tmall")
    assert item["last_error"] == "rejected by the WMS: orders[0]: x"
    assert "receiver" not in item and "13900004444" not in str(body)
    assert hub.ledger.get_order(o.key).stage == Stage.DISPATCH_FAILED


def test_an_operator_resends_once_and_the_order_is_released(hub):
    row_id = dead_letter(hub)
    url = f"/api/dead-letters/{row_id}/resend"
    done = hub.client.post(url, json={"note": "WMS fixed"}, headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["by"] == "alice" and done.json()["id"] == row_id
    assert hub.client.get("/api/dead-letters").json()["total"] == 0
    view = hub.ledger.get_order(hub.seeded.orders["open"].key)
    assert view.stage == Stage.RELEASED
    assert view.timeline[-1].detail == {"by": "alice", "note": "WMS fixed", "action": "resend",
                                        "key": f"wms:{':'.join(view.summary.key)}"}
    again = hub.client.post(url, json={}, headers=AUTH)
    assert again.status_code == 404


def test_resend_needs_the_operator_role(tmp_path):
    for hub in make_hub(tmp_path, token=ROLES):
        row_id = dead_letter(hub)
        url = f"/api/dead-letters/{row_id}/resend"
        assert hub.client.post(url, json={}).status_code == 401
        viewer = hub.client.post(url, json={}, headers={"Authorization": "Bearer tok-viewer"})
        assert viewer.status_code == 403 and "operator" in viewer.json()["detail"]
        assert hub.client.get("/api/dead-letters").json()["total"] == 1
        op = hub.client.post(url, json={}, headers={"Authorization": "Bearer tok-op"})
        assert op.status_code == 200 and op.json()["by"] == "olga"
