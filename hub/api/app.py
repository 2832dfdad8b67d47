"""The hub's API and dashboard: one FastAPI app over the ledger.

>>> from hub.config import ApiConfig
>>> from hub.clock import Clock
>>> from hub.ledger import open_ledger
>>> from hub.app.rules import RuleConsole
>>> ledger = open_ledger("memory:")
>>> app = create_app(ledger, writer=ledger, rules=RuleConsole(ledger, ledger), api=ApiConfig(),
...                  clock=Clock())
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api/rules/dr"))[:3]
['/api/rules/drafts', '/api/rules/drafts/{draft}', '/api/rules/drafts/{draft}/publish']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from hub.api import (
    anomalies,
    deadletters,
    lanes,
    metrics,
    orders,
    rule_builder,
    rule_drafts,
    rule_shadow,
)
from hub.api import rules as rule_console
from hub.api.auth import Auth
from hub.api.feed import EventFeed
from hub.api.limits import Limits, RequestLimits
from hub.api.refusals import document_refusals
from hub.app.ports import OperatorWrites
from hub.app.rules import RuleConsole
from hub.clock import Clock
from hub.config import ApiConfig

STATIC = resources.files("hub.api") / "static"


def _served(routers: Iterable[APIRouter]) -> set[tuple[str, str]]:
    return {(r.path, m) for router in routers for r in router.routes
            if isinstance(r, APIRoute) for m in r.methods}


def _without(router: APIRouter, taken: set[tuple[str, str]]) -> APIRouter:
    """``router``'s routes except those whose path and method are served already (the
    hub's intake router has its own /healthz)."""
    kept = APIRouter()
    kept.routes.extend(r for r in router.routes if not (
        isinstance(r, APIRoute) and any((r.path, m) in taken for m in r.methods)))
    return kept


def create_app(
    ledger: Any,
    *,
    writer: OperatorWrites,
    rules: RuleConsole,
    api: ApiConfig,
    clock: Clock,
    extra_routers: Iterable[APIRouter] = (),
    stats: Callable[[], dict[str, Any]] | None = None,
) -> FastAPI:
    """The API (``/api/...``, ``/metrics``, ``/healthz``) and the dashboard (``/``).

    ``ledger`` is read; operator actions write through ``writer``, the ledger's single
    writer (the running hub's ledger actor, or the ledger itself where nothing else
    writes); ``rules`` is the rule console;
    ``api`` holds the token, the read policy and the limits on what a client may send
    (``hub.api.limits``, over every route, the extra routers' too); ``stats``
    (optional) returns the running hub's counters for ``/metrics``."""
    app = FastAPI(title="OrderHub", version="1", description=(
        "Order look-up, lanes, anomalies and the rule console of the OrderHub order hub. "
        "Changes need `Authorization: Bearer <api.token>`; reads do too when "
        "`api.read_requires_token` is set."))
    app.state.ledger, app.state.rules, app.state.clock = ledger, rules, clock
    app.state.writer = writer
    app.state.auth = Auth(api)
    app.state.feed = EventFeed(ledger, clock)
    app.state.stats = stats
    app.state.limits = Limits.of(api)
    app.add_middleware(RequestLimits, limits=app.state.limits)
    # the rule console's fixed paths come before its /api/rules/{version}
    own = (orders.router, lanes.router, anomalies.router, rule_builder.router, rule_shadow.router,
           rule_drafts.router, rule_console.router, metrics.router, deadletters.router)
    for router in own:
        app.include_router(router)
    taken = _served(own)
    extra_routers = list(extra_routers)
    for router in extra_routers:
        app.include_router(_without(router, taken))
        taken |= _served([router])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    document_refusals(app, (*own, *extra_routers), reads_need_token=api.read_requires_token)
    return app
