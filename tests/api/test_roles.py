"""Tokens carry roles: each change needs its role (403 naming it otherwise), every change
records who made it, and reads need any valid token when reads are protected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from hub.config import ApiConfig
from tests.api.conftest import Hub, make_hub

TOKENS = ("olga:operator:tok-op, anna:rules_author:tok-author, "
          "paul:rules_approver:tok-approver, vic:viewer:tok-viewer")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hub(tmp_path: Any) -> Iterator[Hub]:
    yield from make_hub(tmp_path, token=SecretStr(TOKENS), read_requires_token=True)


def _rules(hub: Hub) -> str:
    return hub.ledger.get_ruleset(None).text.replace("version: 1", "version: 2", 1)


CHANGES = {  # what each change needs, and a request that makes it
    "operator": lambda hub, h: hub.client.post(
        f"/api/orders/{hub.key_path('held')}/release", json={"note": "checked"}, headers=h),
    "rules_author": lambda hub, h: hub.client.post(
        "/api/rules/dry-run", json={"text": _rules(hub), "n": 5}, headers=h),
    "rules_approver": lambda hub, h: hub.client.post(
        f"/api/rules/drafts/{_draft(hub)}/publish", headers=h),
}


def _draft(hub: Hub) -> int:
    """A draft by anna (the author), for the approver to publish."""
    r = hub.client.post("/api/rules/drafts", json={"text": _rules(hub)},
                        headers=bearer("tok-author"))
    assert r.status_code == 201, r.text
    return r.json()["draft"]
HOLDERS = {"operator": ("olga", "tok-op"), "rules_author": ("anna", "tok-author"),
           "rules_approver": ("paul", "tok-approver")}


@pytest.mark.parametrize("role", sorted(CHANGES))
def test_each_change_needs_its_role(hub: Hub, role: str) -> None:
    for other, (_, token) in HOLDERS.items():
        if other == role:
            continue
        refused = CHANGES[role](hub, bearer(token))
        assert refused.status_code == 403, (role, other, refused.text)
        assert f"needs the role {role}" in refused.json()["detail"]
    assert CHANGES[role](hub, bearer("tok-viewer")).status_code == 403
    assert CHANGES[role](hub, {}).status_code == 401
    _, token = HOLDERS[role]
    done = CHANGES[role](hub, bearer(token))
    assert done.status_code in (200, 201), done.text


def test_a_change_records_who_made_it(hub: Hub) -> None:
    done = CHANGES["operator"](hub, bearer("tok-op"))
    assert done.json()["by"] == "olga"
    published = CHANGES["rules_approver"](hub, bearer("tok-approver"))
    assert (published.json()["by"], published.json()["author"]) == ("paul", "anna")
    latest = hub.ledger.get_ruleset(None)
    assert (latest.published_by, latest.author) == ("paul", "anna")


def test_protected_reads_take_any_valid_token(hub: Hub) -> None:
    assert hub.client.get("/api/lanes").status_code == 401
    assert hub.client.get("/api/lanes", headers=bearer("tok-wrong")).status_code == 403
    for token in ("tok-viewer", "tok-op", "tok-author"):
        assert hub.client.get("/api/lanes", headers=bearer(token)).status_code == 200


def test_an_unknown_role_is_refused_in_the_config() -> None:
    with pytest.raises(ValidationError, match="unknown role"):
        ApiConfig(token=SecretStr("eve:admin:x"))
