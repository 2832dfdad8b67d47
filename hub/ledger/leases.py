"""Leases in the ledger (``hub.app.leases`` holds them; docs/leases.md says why rows).

A lease is a row of ``leases``: name, holder, epoch (the fencing token), expiry. Every
change of holder raises the epoch; the row is never deleted, so epochs only grow. A
cursor moved with an epoch (``Cursor.epoch``) is written only when that epoch is the
lease's current one, in the same transaction as the orders it closes; the check reads
the lease row under a share lock on PostgreSQL (an update of the lease waits for it, and
it for the update) and under the write lock on SQLite.

The stores mix :class:`LeaseStore` in; they supply ``_run(what, work)`` (one write
transaction), ``_reading`` and ``_q`` (placeholders), and ``lock_row``/``share_row``
(the row-lock suffixes of their dialect).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from hub.app.records import LeaseLost, LeaseRecord, cursor_lease
from hub.ledger.times import epoch as seconds
from hub.ledger.times import from_epoch

T = TypeVar("T")
RELEASED_AT = 0.0  # a released lease's expiry: long past


class LeaseStore:
    lock_row = ""  # PostgreSQL: " FOR UPDATE"
    share_row = ""  # PostgreSQL: " FOR SHARE"

    def _run(self, what: str, work: Callable[[Any], T]) -> T:
        raise NotImplementedError

    def _reading(self, what: str) -> Any:
        raise NotImplementedError

    def _q(self, sql: str) -> str:
        return sql

    def lease_acquire(self, name: str, holder: str, ttl_s: float, now: datetime,
                      epoch: int | None = None) -> int | None:
        """See ``hub.app.ports.Leases.lease_acquire``."""
        now_s = seconds(now, "lease now")
        until = now_s + ttl_s
        q = self._q

        def work(c: Any) -> int | None:
            row = c.execute(q("SELECT holder, epoch, expires_at FROM leases WHERE name = ?"
                              + self.lock_row), (name,)).fetchone()
            if row is None:
                made = c.execute(q("INSERT INTO leases (name, holder, epoch, expires_at, "
                                   "acquired_at) VALUES (?, ?, 1, ?, ?) "
                                   "ON CONFLICT (name) DO NOTHING RETURNING epoch"),
                                 (name, holder, until, now_s)).fetchone()
                return made[0] if made else None  # None: another holder made it first
            held_by, current, expires_at = row
            if held_by == holder and epoch == current:  # renewal
                c.execute(q("UPDATE leases SET expires_at = ? WHERE name = ?"), (until, name))
                return current
            if expires_at <= now_s or (held_by == holder and epoch is None):
                c.execute(q("UPDATE leases SET holder = ?, epoch = ?, expires_at = ?, "
                            "acquired_at = ? WHERE name = ?"),
                          (holder, current + 1, until, now_s, name))
                return current + 1
            return None

        return self._run("lease_acquire", work)

    def lease_release(self, name: str, holder: str, epoch: int, now: datetime) -> bool:
        """See ``hub.app.ports.Leases.lease_release``."""
        seconds(now, "lease now")

        def work(c: Any) -> bool:
            done = c.execute(self._q("UPDATE leases SET expires_at = ? WHERE name = ? "
                                     "AND holder = ? AND epoch = ? RETURNING epoch"),
                             (RELEASED_AT, name, holder, epoch)).fetchone()
            return done is not None

        return self._run("lease_release", work)

    def leases(self, prefix: str = "") -> list[LeaseRecord]:
        """See ``hub.app.ports.Leases.leases``."""
        with self._reading("leases") as c:
            rows = c.execute(self._q("SELECT name, holder, epoch, expires_at, acquired_at "
                                     "FROM leases WHERE substr(name, 1, ?) = ? ORDER BY name"),
                             (len(prefix), prefix)).fetchall()
        return [LeaseRecord(r[0], r[1], r[2], from_epoch(r[3]), from_epoch(r[4]))
                for r in rows]

    def _fence(self, c: Any, channel: str, shop: str, epoch: int | None) -> None:
        """Raise LeaseLost unless ``epoch`` (when given) is the cursor's lease's current one."""
        if epoch is None:
            return
        name = cursor_lease(channel, shop)
        row = c.execute(self._q("SELECT epoch, holder FROM leases WHERE name = ?"
                                + self.share_row), (name,)).fetchone()
        if row is None or row[0] != epoch:
            now = "no lease" if row is None else f"epoch {row[0]}, held by {row[1]}"
            raise LeaseLost(f"cursor {name} not moved: written with lease epoch {epoch}, "
                            f"the lease is at {now}")
