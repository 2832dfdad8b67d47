"""create_app with the hub's intake router, as ``hub.runtime.Hub._serve_api`` assembles it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.intake import IntakePorts, intake_router
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from tests.api.seed import seed
from tests.fakes import FakeRouter


def test_extra_routers_are_served_and_do_not_shadow_ours(tmp_path):
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    seeded = seed(ledger)
    ports = IntakePorts(LocalLedger(ledger), FakeRouter(), seeded.clock)
    app = create_app(ledger, writer=ledger, rules=RuleConsole(ledger, ledger, clock=seeded.clock),
                     api=ApiConfig(), clock=seeded.clock, extra_routers=[intake_router(ports)])
    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/push/{channel}", "/wms/status", "/healthz", "/api/lanes"} <= set(paths)
        health = client.get("/healthz").json()
        assert health == {"status": "ok", "ledger": "ok", "rules_version": 1}
        assert client.post("/push/nosuchmarket", content=b"{}").status_code == 404
    ledger.close()
