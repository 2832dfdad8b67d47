"""One copy of a batch for several actors.

A batch of orders sent to two actors as a plain argument is pickled once for each
call. Put in Ray's object store first, it is pickled once, and each actor the
reference is passed to reads that one copy (Ray hands the actor the value, not the
reference). The ledger's ingest and the router share a puller's or a push's batch
this way, and the validator and scorer pools share a router's.
"""

from __future__ import annotations

from typing import Any


def share(batch: list) -> Any:
    """``batch`` in the object store (an ``ObjectRef``); an empty one stays as it is."""
    if not batch:
        return batch
    import ray

    return ray.put(batch)
