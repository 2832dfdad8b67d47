"""An API over a real SQLite ledger file in tmp_path, seeded with five decided orders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hub.api.app import create_app
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.ledger import open_ledger
from tests.api.seed import Seeded, seed

TOKEN = "s3cret-token"
TOKENS = f"alice:{TOKEN},bob:other-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOB = {"Authorization": "Bearer other-token"}  # a second person, with every role too


def publish(client: TestClient, text: str, author: dict = AUTH, approver: dict = BOB) -> Any:
    """Publish ``text`` the two-person way: ``author`` drafts, ``approver`` publishes;
    the publish response (the draft's refusal, 422, when the draft was refused)."""
    drafted = client.post("/api/rules/drafts", json={"text": text}, headers=author)
    if drafted.status_code != 201:
        return drafted
    return client.post(f"/api/rules/drafts/{drafted.json()['draft']}/publish", headers=approver)


@dataclass
class Hub:
    """What a test needs: the client, the seeded ledger, and what ``put_in_force`` saw."""

    client: TestClient
    seeded: Seeded
    published: list[tuple[int, str]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ledger(self) -> Any:
        return self.seeded.ledger

    def key_path(self, name: str) -> str:
        o = self.seeded.orders[name]
        return f"{o.channel.value}/{o.shop}/{o.order_id}"


def make_hub(tmp_path: Any, **api: Any) -> Iterator[Hub]:
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    seeded = seed(ledger)
    published: list[tuple[int, str]] = []
    stats: dict[str, Any] = {}
    admin = RuleConsole(ledger, ledger, put_in_force=lambda v, t: published.append((v, t)),
                        clock=seeded.clock)
    config = ApiConfig(**{"token": SecretStr(TOKENS), **api})
    app = create_app(ledger, writer=ledger, rules=admin, api=config, clock=seeded.clock,
                     stats=lambda: stats)
    with TestClient(app) as client:
        yield Hub(client, seeded, published, stats)
    ledger.close()


@pytest.fixture
def hub(tmp_path: Any) -> Iterator[Hub]:
    yield from make_hub(tmp_path)
