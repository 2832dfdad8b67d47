"""The demo hub's HTTP face served for real, lightly: the API over a seeded SQLite ledger
plus the intake router over the same ledger (no Ray: a fake router takes the pushed
orders), served by ``ApiServer`` on 127.0.0.1 port 0, so requests go over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hub.api.app import create_app
from hub.api.intake import IntakePorts, intake_router
from hub.api.server import ApiServer
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.connectors import Connections
from hub.ledger import open_ledger
from hub.ledger.local import LocalLedger
from tests.api.push_helpers import channel_configs
from tests.api.seed import Seeded, seed
from tests.fakes import FakeRouter

TOKEN = "live-hub-token"
VIEWER_TOKEN = "live-hub-viewer"  # may read, may change nothing
WMS_SECRETS = {"main": "wms-test-secret"}


@dataclass
class LiveHub:
    server: ApiServer
    seeded: Seeded
    router: FakeRouter

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ledger(self) -> Any:
        return self.seeded.ledger


@contextmanager
def live_hub(tmp_path: Path, **api: Any) -> Iterator[LiveHub]:
    """The hub served with ``ApiConfig(token="alice:<TOKEN>,vic:viewer:<VIEWER_TOKEN>",
    port=0, **api)``."""
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    seeded = seed(ledger)
    router = FakeRouter()
    ports = IntakePorts(LocalLedger(ledger), router, seeded.clock,
                        channel_configs("tmall", "jd"), Connections(), wms_secrets=WMS_SECRETS)
    tokens = f"alice:{TOKEN}, vic:viewer:{VIEWER_TOKEN}"
    config = ApiConfig(**{"token": SecretStr(tokens), "port": 0, **api})
    app = create_app(ledger, writer=ledger, rules=RuleConsole(ledger, ledger,
                                                              clock=seeded.clock),
                     api=config, clock=seeded.clock, extra_routers=[intake_router(ports)])
    try:
        with ApiServer.from_config(app, config) as server:
            yield LiveHub(server, seeded, router)
    finally:
        ledger.close()
