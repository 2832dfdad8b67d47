"""What-ifs for the hub benchmark (``--what-if NAME``): push mode runs once more with
a Router subclass carrying a proposed change, the hub's code untouched, and the figures
are reported apart from the real ones, as the measured effect of the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hub.actors.router import Router


class _InRouter:
    """A pool stand-in: the replica's method runs in the router's own process, on the
    batch the router holds (the one a replica would have unpickled)."""

    def __init__(self, router: PoolsInRouter, worker: Any) -> None:
        self.router, self.worker = router, worker

    async def submit(self, method: str, _shared: Any, *args: Any) -> Any:
        return getattr(self.worker, method)(self.router.held, *args)


class PoolsInRouter(Router):
    """The validator's and scorer's work in the router's process: no pool hop. What the
    separate pool processes cost on this machine (the router still pickles the batch
    for the pools; the idle replicas still run)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from hub.actors.workers import Scorer, Validator

        self.held: list = []
        self.validators = _InRouter(self, Validator())
        self.scorers = _InRouter(self, Scorer())

    async def _enrich(self, batch: list) -> list:
        # from here to the pools' submit the router does not await, so no other batch
        # can take the router in between
        self.held = await super()._enrich(batch)
        return self.held


# name -> a Router subclass with the proposed change. "recent-by-buyer" (send a
# validator only the batch's buyers' recent orders) was adopted by the hub itself in
# 8f26bf9 (hub.actors.enrichment.RecentOrders).
WHAT_IFS: dict[str, type[Router]] = {"pools-in-router": PoolsInRouter}


@contextlib.contextmanager
def applied(what_if: str | None) -> Iterator[None]:
    """While inside, ``Hub.start`` builds the what-if's router."""
    if not what_if:
        yield
        return
    if what_if not in WHAT_IFS:
        raise ValueError(f"unknown what-if {what_if!r} (known: {', '.join(WHAT_IFS) or 'none'})")
    import hub.runtime

    original = hub.runtime.Router
    hub.runtime.Router = WHAT_IFS[what_if]
    try:
        yield
    finally:
        hub.runtime.Router = original
