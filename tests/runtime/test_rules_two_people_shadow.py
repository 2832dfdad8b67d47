"""The running hub's rule console (issue #22): a draft runs in shadow beside the rules in
force, fed by the router's live batches; a second person publishes it and the next
Douyin live-room order from a new buyer goes to the new packing group, with no restart."""


import httpx
import pytest
from pydantic import SecretStr

from hub.clock import Clock
from hub.config import HubSettings
from hub.ledger import open_ledger
from hub.runtime import Hub
from tests.actors.routers import wait_until
from tests.app.shadow_cases import candidate_text, live_new_buyer, mixed_orders

pytestmark = pytest.mark.ray
ANN = {"Authorization": "Bearer tok-ann"}  # author and approver both: still one person
PAUL = {"Authorization": "Bearer tok-paul"}


def _feed(hub, orders) -> None:
    import ray

    new = ray.get(hub.ledger.ingest.remote(orders, None))
    ray.get(hub.router.submit.remote(new))


def test_shadow_then_two_people_publish_without_a_restart(ray_session, tmp_path):
    settings = HubSettings(ledger=str(tmp_path / "hub.sqlite3"), channels=[])
    settings.api.port = 0
    settings.api.token = SecretStr("ann:rules_author+rules_approver:tok-ann, "
                                   "paul:rules_approver:tok-paul")
    hub = Hub(settings, Clock()).start()
    try:
        api = httpx.Client(base_url=hub.api_url, timeout=30)
        draft = api.post("/api/rules/drafts", json={"text": candidate_text()}, headers=ANN)
        assert draft.status_code == 201, draft.text
        number = draft.json()["draft"]
        assert api.post("/api/rules/shadow", json={"draft": number},
                        headers=ANN).status_code == 201
        orders, moved, held = mixed_orders()
        _feed(hub, orders)
        assert wait_until(lambda: api.get("/api/rules/shadow").json()["orders"] >= len(orders),
                          timeout=90)
        report = api.get("/api/rules/shadow").json()
        assert report["changed"]["packing_group"] == moved and report["changed"]["hold"] == held
        ledger = open_ledger(settings.ledger, reader=True)
        assert ledger.counts()["stages"] == {"routed": len(orders)}  # the shadow held none

        assert api.post(f"/api/rules/drafts/{number}/publish", headers=ANN).status_code == 403
        published = api.post(f"/api/rules/drafts/{number}/publish", headers=PAUL)
        assert published.status_code == 201 and published.json()["version"] == 2
        fan = live_new_buyer(5000)
        _feed(hub, [fan])
        assert wait_until(lambda: (view := ledger.get_order(fan.key)) is not None
                          and view.decision is not None, timeout=90)
        decision = ledger.get_order(fan.key).decision
        assert (decision.packing_group, decision.ruleset_version) == ("live-gift-bench", 2)
        versions = api.get("/api/rules").json()["versions"]
        assert (versions[0]["author"], versions[0]["approver"]) == ("ann", "paul")
        ledger.close()
    finally:
        hub.stop()
