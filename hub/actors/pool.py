"""BatchPool: N replicas of one actor class, fed whole batches.

Unlike Ray's ``ActorPool``, a batch whose replica died is sent again: pool
methods are pure functions of their arguments, so running one twice is safe,
and a dead replica is restarted by Ray (``max_restarts``) rather than dropped.

>>> import ray
>>> from hub.actors.pool import BatchPool
>>> _ = ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
>>> @ray.remote
... class Doubler:
...     def run(self, batch):
...         return [2 * x for x in batch]
>>> pool = BatchPool(Doubler, 2)
>>> pool.map("run", [[1, 2], [3]])
[[2, 4], [6]]
>>> ray.shutdown()
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError

RETRYABLE = (RayActorError, ActorUnavailableError)


class BatchPool:
    def __init__(self, actor_cls: Any, size: int, *args: Any, max_attempts: int = 8, **kwargs):
        if size < 1:
            raise ValueError("a pool needs at least one replica")
        self.max_attempts = max_attempts
        self.replicas = [
            actor_cls.options(max_restarts=-1, max_task_retries=0).remote(*args, **kwargs)
            for _ in range(size)
        ]
        self._busy = [0] * size
        self.resubmitted = 0

    def _pick(self, avoid: int | None = None) -> int:
        """The least busy replica, other than ``avoid`` (one that just failed) if possible."""
        others = [i for i in range(len(self.replicas)) if i != avoid] or [0]
        return min(others, key=self._busy.__getitem__)

    async def submit(self, method: str, *args: Any) -> Any:
        """Run ``method(*args)`` on the least busy replica; re-send if the replica dies,
        to another replica when there is one (Ray restarts the dead one meanwhile)."""
        last: Exception | None = None
        failed: int | None = None
        for attempt in range(self.max_attempts):
            index = self._pick(failed)
            self._busy[index] += 1
            try:
                return await getattr(self.replicas[index], method).remote(*args)
            except RETRYABLE as exc:
                last, failed = exc, index
                self.resubmitted += 1
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
            finally:
                self._busy[index] -= 1
        raise RuntimeError(f"{method}: replicas kept dying ({self.max_attempts} tries)") from last

    def map(self, method: str, batches: Sequence[Any]) -> list[Any]:
        """Blocking form for scripts and tests: results in the order of ``batches``."""

        async def run_all() -> list[Any]:
            return await asyncio.gather(*(self.submit(method, b) for b in batches))

        return asyncio.run(run_all())

    def broadcast(self, method: str, *args: Any, timeout: float | None = None) -> list[Any]:
        """Call ``method`` on every replica (e.g. to swap in a new rule set); blocking, for
        at most ``timeout`` seconds when given."""
        return ray.get([getattr(r, method).remote(*args) for r in self.replicas],
                       timeout=timeout)
