"""Two-person publishing: an author drafts, an approver who is not the author publishes;
the version list names both, and each version has a readable diff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from tests.api.conftest import Hub, make_hub
from tests.api.test_rules import with_rules

# ann holds both roles: what refuses her is the same-person rule, not a missing role
TOKENS = "ann:rules_author+rules_approver:tok-ann, paul:rules_approver:tok-paul"
ANN, PAUL = {"Authorization": "Bearer tok-ann"}, {"Authorization": "Bearer tok-paul"}


@pytest.fixture
def hub(tmp_path: Any) -> Iterator[Hub]:
    yield from make_hub(tmp_path, token=SecretStr(TOKENS))


def draft(hub: Hub, text: str, comment: str = "") -> dict:
    r = hub.client.post("/api/rules/drafts", json={"text": text, "comment": comment},
                        headers=ANN)
    assert r.status_code == 201, r.text
    return r.json()


def test_publishing_with_the_authors_own_token_is_refused_403(hub):
    made = draft(hub, with_rules(2, ""), "jd orders to P1")
    assert (made["author"], made["status"], made["comment"]) == ("ann", "open",
                                                                 "jd orders to P1")
    r = hub.client.post(f"/api/rules/drafts/{made['draft']}/publish", headers=ANN)
    assert r.status_code == 403
    assert "second person" in r.json()["detail"] and "ann" in r.json()["detail"]
    assert hub.published == [] and hub.ledger.get_ruleset(None).version == 1
    assert hub.client.get(f"/api/rules/drafts/{made['draft']}").json()["status"] == "open"

    r = hub.client.post(f"/api/rules/drafts/{made['draft']}/publish", headers=PAUL)
    assert r.status_code == 201
    assert r.json() == {"version": 2, "previous": 1, "by": "paul", "author": "ann"}
    assert hub.published == [(2, with_rules(2, ""))]
    shown = hub.client.get(f"/api/rules/drafts/{made['draft']}").json()
    assert (shown["status"], shown["published_version"]) == ("published", 2)
    again = hub.client.post(f"/api/rules/drafts/{made['draft']}/publish", headers=PAUL)
    assert again.status_code == 409


def test_versions_show_author_approver_and_times(hub):
    made = draft(hub, with_rules(2, ""))
    hub.seeded.clock.advance(120)
    hub.client.post(f"/api/rules/drafts/{made['draft']}/publish", headers=PAUL)
    [v2, v1] = hub.client.get("/api/rules").json()["versions"]
    assert (v2["author"], v2["approver"], v2["draft"], v2["in_force"]) == (
        "ann", "paul", made["draft"], True)
    assert v2["drafted_at"] == made["created_at"] != v2["published_at"]
    assert (v1["author"], v1["approver"], v1["draft"]) == ("default", "default", None)


def test_a_draft_that_can_no_longer_be_published_is_refused_with_its_problem(hub):
    first, second = draft(hub, with_rules(2, "")), draft(hub, with_rules(2, "  - "
                          "{id: jd, precedence: 1, when: {field: channel, eq: jd}, "
                          "then: {lane: P1}}\n"))
    assert [d["draft"] for d in hub.client.get("/api/rules/drafts").json()["drafts"]] == [
        second["draft"], first["draft"]]
    assert hub.client.post(f"/api/rules/drafts/{first['draft']}/publish",
                           headers=PAUL).status_code == 201
    stale = hub.client.post(f"/api/rules/drafts/{second['draft']}/publish", headers=PAUL)
    assert stale.status_code == 422 and "not newer" in stale.json()["problems"][0]["reason"]
    assert hub.client.post("/api/rules/drafts/999/publish", headers=PAUL).status_code == 404
    assert hub.client.get("/api/rules/drafts/999").status_code == 404


def test_a_refused_text_is_not_kept_as_a_draft(hub):
    r = hub.client.post("/api/rules/drafts", json={"text": "version: 2\nname: x\nlanes: 3\n"},
                        headers=ANN)
    assert r.status_code == 422 and r.json()["problems"][0]["line"] == 3
    assert hub.client.get("/api/rules/drafts").json() == {"drafts": []}
    assert hub.client.post("/api/rules/drafts", json={"text": with_rules(2, "")},
                           headers=PAUL).status_code == 403  # paul is no author


def test_rollback_is_one_action_by_an_approver_and_each_version_has_a_diff(hub):
    made = draft(hub, with_rules(2, "  - {id: jd, precedence: 1, when: {field: channel, "
                                    "eq: jd}, then: {lane: P1}}\n"))
    hub.client.post(f"/api/rules/drafts/{made['draft']}/publish", headers=PAUL)
    r = hub.client.post("/api/rules/rollback", json={"version": 1}, headers=PAUL)
    assert r.status_code == 201 and r.json()["version"] == 3
    diff = hub.client.get("/api/rules/2/diff").json()
    assert (diff["version"], diff["against"]) == (2, 1)
    lines = diff["diff"].splitlines()
    assert lines[:2] == ["--- v1", "+++ v2"]
    assert "-version: 1" in lines and "+version: 2" in lines
    assert any(line.startswith("+  - {id: jd") for line in lines)
    back = hub.client.get("/api/rules/3/diff").json()["diff"]
    assert any(line.startswith("-  - {id: jd") for line in back.splitlines())
    first = hub.client.get("/api/rules/1/diff").json()
    assert first["against"] is None and first["diff"].startswith("--- (nothing)\n+++ v1\n")
    assert hub.client.get("/api/rules/42/diff").status_code == 404
