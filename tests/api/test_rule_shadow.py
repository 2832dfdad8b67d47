"""The shadow run over HTTP: start a draft in shadow, read what it would change, stop it.
Here the console's shadow runner is in-process (``LocalShadow``) and the test hands it
the batches; with the running hub the router does (tests/actors/test_router_shadow.py)."""

from __future__ import annotations

from hub.domain.rules import default_ruleset
from tests.api.conftest import AUTH, BOB
from tests.app.shadow_cases import candidate_text, mixed_orders


def test_a_draft_runs_in_shadow_and_reports_would_be_changes(hub):
    drafted = hub.client.post("/api/rules/drafts", json={"text": candidate_text()},
                              headers=AUTH).json()
    assert hub.client.get("/api/rules/shadow").json()["running"] is False
    r = hub.client.post("/api/rules/shadow", json={"draft": drafted["draft"]}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert (r.json()["draft"], r.json()["version"]) == (drafted["draft"], 2)
    orders, moved, held = mixed_orders()
    hub.client.app.state.rules.shadow.observe_orders(orders, default_ruleset())
    body = hub.client.get("/api/rules/shadow", params={"minutes": 5}).json()
    assert (body["running"], body["orders"], body["batches"]) == (True, len(orders), 1)
    assert body["changed"] == {"lane": 0, "packing_group": moved, "hold": held,
                               "any": moved + held}
    assert body["examples"][0]["after"]["packing_group"] == "live-gift-bench"
    assert hub.published == [] and hub.ledger.get_ruleset(None).version == 1  # nothing acted
    stopped = hub.client.delete("/api/rules/shadow", headers=AUTH)
    assert stopped.status_code == 200 and stopped.json()["running"] is False
    assert stopped.json()["changed"]["any"] == moved + held
    # publish from there: a second person approves the draft that ran in shadow
    done = hub.client.post(f"/api/rules/drafts/{drafted['draft']}/publish", headers=BOB)
    assert done.status_code == 201 and hub.published[-1][0] == 2


def test_shadow_needs_a_token_and_a_known_draft(hub):
    assert hub.client.post("/api/rules/shadow", json={"draft": 1}).status_code == 401
    assert hub.client.post("/api/rules/shadow", json={"draft": 42},
                           headers=AUTH).status_code == 404
    assert hub.client.delete("/api/rules/shadow").status_code == 401
    assert hub.client.get("/api/rules/shadow", params={"minutes": 0}).status_code == 422
