"""The router actor as the router tests start it: a SQLite ledger service in the test's
folder, pools of validators and scorers, and the rules in force (the default set unless
given)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.actors.handles import LedgerHandle
from hub.actors.pool import BatchPool
from hub.actors.router import Router
from hub.actors.workers import Scorer, Validator
from hub.config import PoolConfig
from hub.domain.rules import RuleSet, default_ruleset
from hub.ledger.service import LedgerService


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """True as soon as ``predicate()`` is, False if it is not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def start_router(ray: Any, tmp_path: Path, *, validators: int = 1, scorers: int = 1,
                 batch_max: int = 50, batch_ms: float = 10, rules: RuleSet | None = None,
                 **router_kw: Any) -> tuple[Any, Any]:
    """(ledger, router) actors; ``router_kw`` goes to ``Router`` as it is."""
    ledger = ray.remote(LedgerService).remote(str(tmp_path / "ledger.sqlite3"))
    rules = rules or default_ruleset()
    router = ray.remote(Router).options(max_concurrency=16).remote(
        LedgerHandle(ledger), BatchPool(ray.remote(Validator), validators),
        BatchPool(ray.remote(Scorer), scorers), (rules.version, rules.text),
        PoolConfig(batch_max=batch_max, batch_ms=batch_ms), **router_kw)
    return ledger, router
