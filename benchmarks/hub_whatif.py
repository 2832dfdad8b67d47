"""What-ifs for the hub benchmark (``--what-if NAME``): push mode runs once more with
a Router subclass carrying a proposed change, the hub's code untouched, and the figures
are reported apart from the real ones, as the measured effect of the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hub.actors.router import Router

# name -> a Router subclass with the proposed change. None is pending: the last one,
# "recent-by-buyer" (send a validator only the batch's buyers' recent orders), was
# adopted by the hub itself in 8f26bf9 (hub.actors.enrichment.RecentOrders).
WHAT_IFS: dict[str, type[Router]] = {}


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
