"""What the SQLite and PostgreSQL ledgers share: every read query.

Queries are written with ``?`` placeholders; the PostgreSQL store turns them
into ``%s``. Each store supplies ``_reading`` (a connection inside one read
transaction, with its errors mapped to LedgerError) and ``_ids`` (keys to row ids).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import orjson

from hub.app.deadletters import WAREHOUSE_GROUP, DeadLetter
from hub.domain import durations
from hub.domain.decision import Stage
from hub.domain.lifecycle import WAREHOUSE
from hub.domain.order import Order
from hub.domain.outbox import CS_GROUP
from hub.ledger.base import (
    EventRecord,
    Ledger,
    OrderKey,
    OrderSummary,
    OrderView,
    OutboxMessage,
    QuarantineRecord,
)
from hub.ledger.drafts import RuleTables
from hub.ledger.prepare import decision_from_body
from hub.ledger.times import epoch, from_epoch, from_micros

SUMMARY_COLS = ("o.id, o.channel, o.shop, o.order_id, o.status, o.version_us, o.created_at, "
                "o.received_at, o.stage, o.stage_at, o.lane, o.score, o.packing_group, "
                "o.hold_reason, o.hold_group, o.ruleset_version, o.tracking_no")
EVENT_COLS = ("e.id, o.channel, o.shop, o.order_id, e.stage, e.at, e.version_us, "
              "e.ruleset_version, e.tracking_no, e.steps, e.detail")
CHUNK = 500
DEAD_SQL = ("SELECT x.id, x.destination, x.key, o.channel, o.shop, o.order_id, x.attempts, "
            "x.last_error, x.dead_at, x.created_at FROM outbox x LEFT JOIN orders o "
            "ON o.id = x.oid ")


def summary(row: Sequence[Any]) -> OrderSummary:
    return OrderSummary(
        key=(row[1], row[2], row[3]), status=row[4], version=from_micros(row[5]),
        created_at=from_epoch(row[6]), received_at=from_epoch(row[7]), stage=row[8],
        stage_at=from_epoch(row[9]), lane=row[10], score=row[11], packing_group=row[12],
        hold_reason=row[13], hold_group=row[14], ruleset_version=row[15], tracking_no=row[16])


def events(row: Sequence[Any]) -> list[EventRecord]:
    """The events of one row: one, or a decision's three (see hub.ledger.schema)."""
    rid, channel, shop, order_id, stage, at, version_us, rs, tracking_no, steps, raw = row
    key, moment, version = (channel, shop, order_id), from_epoch(at), from_micros(version_us)
    detail = orjson.loads(raw) if raw is not None else None
    if steps is None:
        return [EventRecord(rid * 4, key, stage, moment, version, rs, tracking_no, detail)]
    by_stage = detail or {}
    return [EventRecord(rid * 4 + i, key, name, moment, version, rs, tracking_no,
                        by_stage.get(name))
            for i, name in enumerate([*steps.split(","), stage])]


def expand(rows: Sequence[Sequence[Any]]) -> list[EventRecord]:
    return [e for row in rows for e in events(row)]


def claimed(rows: Sequence[Sequence[Any]]) -> list[OutboxMessage]:
    """Outbox rows (id, destination, key, payload, attempts, next_attempt_at, last_error)."""
    return [OutboxMessage(destination=r[1], key=r[2], payload=orjson.loads(r[3]), id=r[0],
                          attempts=r[4], next_attempt_at=from_epoch(r[5]), last_error=r[6])
            for r in sorted(rows, key=lambda r: r[0])]


def dead_letter(r: Sequence[Any]) -> DeadLetter:
    order = (r[3], r[4], r[5]) if r[3] is not None else None
    return DeadLetter(id=r[0], destination=r[1], key=r[2], order=order, attempts=r[6],
                      last_error=r[7] or "", dead_at=from_epoch(r[8]),
                      created_at=from_epoch(r[9]))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# Undecided: still ``received`` (new orders, and new versions of orders not yet with the WMS),
# or a newer version than the decision on an order the WMS has (its stage stays), once the
# ``received`` event of that version is old enough. The second part reads the small
# ``orders_redecide`` index.
UNDECIDED_SQL = (
    "SELECT o.id, b.body FROM orders o JOIN order_bodies b ON b.id = o.id "
    "WHERE o.stage = 'received' AND o.stage_at <= ? "
    "UNION ALL SELECT o.id, b.body FROM orders o JOIN order_bodies b ON b.id = o.id "
    "WHERE o.decided_us < o.version_us AND o.stage <> 'received' AND EXISTS ("
    "SELECT 1 FROM events e WHERE e.oid = o.id AND e.stage = 'received' "
    "AND e.version_us = o.version_us AND e.at <= ?) "
    "ORDER BY 1 LIMIT ?")
TOO_LATE = Stage.INTERCEPT_TOO_LATE.value
AFTER_CANCEL = Stage.SHIPPED_AFTER_CANCEL.value
DISPATCH_FAILED = Stage.DISPATCH_FAILED.value
WAREHOUSE_IN = ", ".join(f"'{s}'" for s in WAREHOUSE)


class SqlLedger(RuleTables, Ledger):
    where: str  # how messages name this ledger (never with a password)

    @abstractmethod
    def _reading(self, what: str) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _ids(self, c: Any, keys: Sequence[OrderKey]) -> dict[OrderKey, int]: ...

    def _q(self, sql: str) -> str:
        return sql

    def _all(self, c: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(c.execute(self._q(sql), params).fetchall())

    # -- small tables -----------------------------------------------------------------------
    def get_cursor(self, channel: str, shop: str) -> datetime | None:
        with self._reading("get_cursor") as c:
            rows = self._all(c, "SELECT window_end FROM cursors WHERE channel = ? AND shop = ?",
                             (channel, shop))
        return from_epoch(rows[0][0]) if rows else None

    def quarantine_list(self, limit: int = 100) -> list[QuarantineRecord]:
        with self._reading("quarantine_list") as c:
            rows = self._all(c, "SELECT id, channel, shop, raw, error, at FROM quarantine "
                                "ORDER BY id DESC LIMIT ?", (limit,))
        return [QuarantineRecord(r[0], r[1], r[2], bytes(r[3]), r[4], from_epoch(r[5]))
                for r in rows]

    def pending_count(self) -> int:
        with self._reading("pending_count") as c:
            return self._all(c, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL "
                                "AND dead_at IS NULL")[0][0]

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self._reading("dead_letters") as c:
            rows = self._all(c, DEAD_SQL + "WHERE x.dead_at IS NOT NULL AND x.delivered_at IS "
                                "NULL ORDER BY x.dead_at DESC, x.id DESC LIMIT ?", (limit,))
        return [dead_letter(r) for r in rows]

    def dead_letter(self, message_id: int) -> DeadLetter | None:
        with self._reading("dead_letter") as c:
            rows = self._all(c, DEAD_SQL + "WHERE x.id = ? AND x.dead_at IS NOT NULL "
                                "AND x.delivered_at IS NULL", (message_id,))
        return dead_letter(rows[0]) if rows else None

    def schema_version(self) -> int:
        with self._reading("schema_version") as c:
            return self._all(c, "SELECT COALESCE(MAX(version), 0) FROM ledger_migrations")[0][0]

    # -- orders -----------------------------------------------------------------------------
    def get_order(self, key: OrderKey) -> OrderView | None:
        channel, shop, order_id = key
        with self._reading("get_order") as c:
            rows = self._all(c, f"SELECT {SUMMARY_COLS}, b.body FROM orders o "
                                "JOIN order_bodies b ON b.id = o.id "
                                "WHERE o.order_id = ? AND o.channel = ? AND o.shop = ?",
                             (order_id, channel, shop))
            if not rows:
                return None
            oid = rows[0][0]
            decided = self._all(c, "SELECT body FROM events WHERE oid = ? AND body IS NOT NULL "
                                   "ORDER BY id DESC LIMIT 1", (oid,))
            timeline = self._all(c, f"SELECT {EVENT_COLS} FROM events e JOIN orders o "
                                    "ON o.id = e.oid WHERE e.oid = ? ORDER BY e.at, e.id", (oid,))
        return OrderView(
            summary=summary(rows[0]),
            order=Order.model_validate_json(rows[0][17]),
            decision=decision_from_body(decided[0][0]) if decided else None,
            timeline=expand(timeline))

    def find_orders(self, *, stage: str | None = None, lane: str | None = None,
                    hold_reason: str | None = None, tracking_no: str | None = None,
                    order_id: str | None = None, channel: str | None = None,
                    limit: int = 100) -> list[OrderSummary]:
        where, params = [], []
        for column, value in (("order_id", order_id), ("channel", channel),
                              ("tracking_no", tracking_no), ("hold_reason", hold_reason),
                              ("stage", stage), ("lane", lane)):
            if value is not None:
                where.append(f"o.{column} = ?")
                params.append(value)
        sql = f"SELECT {SUMMARY_COLS} FROM orders o"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._reading("find_orders") as c:
            rows = self._all(c, sql + " ORDER BY o.id DESC LIMIT ?", (*params, limit))
        return [summary(r) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        with self._reading("counts") as c:
            rows = self._all(c, "SELECT stage, lane, COUNT(*) FROM orders GROUP BY stage, lane")
        stages: dict[str, int] = {}
        lanes: dict[str, int] = {}
        for stage, lane, n in rows:
            stages[stage] = stages.get(stage, 0) + n
            if lane is not None:
                lanes[lane] = lanes.get(lane, 0) + n
        return {"stages": stages, "lanes": lanes}

    def open_anomalies(self) -> list[dict[str, Any]]:
        with self._reading("open_anomalies") as c:
            rows = self._all(c, "SELECT hold_reason, hold_group, COUNT(*), MIN(stage_at) "
                                "FROM orders WHERE stage = 'held' "
                                "GROUP BY hold_reason, hold_group")
            rows += self._all(c, "SELECT 'reconcile_mismatch', 'reconcile', COUNT(*), "
                                 "MIN(stage_at) FROM orders WHERE stage = 'reconcile_mismatch' "
                                 "HAVING COUNT(*) > 0")
            for stage, group in ((TOO_LATE, CS_GROUP), (AFTER_CANCEL, CS_GROUP),
                                 (DISPATCH_FAILED, WAREHOUSE_GROUP)):
                rows += self._all(c, "SELECT ?, ?, COUNT(*), MIN(stage_at) FROM orders "
                                     "WHERE stage = ? HAVING COUNT(*) > 0",
                                  (stage, group, stage))
        out = [{"reason": r[0] or "", "group": r[1] or "", "count": r[2],
                "oldest_at": from_epoch(r[3])} for r in rows]
        return sorted(out, key=lambda a: (-a["count"], a["reason"], a["group"]))

    def stage_durations(self, since: datetime,
                        until: datetime | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT e.oid, o.lane, e.stage, e.at, e.steps FROM events e "
               "JOIN orders o ON o.id = e.oid WHERE e.at >= ?")
        params: list[Any] = [epoch(since, "since")]
        if until is not None:
            sql += " AND e.at < ?"
            params.append(epoch(until, "until"))
        with self._reading("stage_durations") as c:
            rows = self._all(c, sql + " ORDER BY e.oid, e.at, e.id", params)
        return durations.stage_durations(
            (oid, lane, name, at) for oid, lane, stage, at, steps in rows
            for name in ([*steps.split(","), stage] if steps else [stage]))

    def recent_orders(self, n: int) -> list[Order]:
        with self._reading("recent_orders") as c:
            rows = self._all(c, "SELECT body FROM order_bodies ORDER BY id DESC LIMIT ?", (n,))
        return [Order.model_validate_json(r[0]) for r in rows]

    def events_since(self, *, since: datetime | None = None, until: datetime | None = None,
                     keys: Sequence[OrderKey] | None = None, after_id: int = 0,
                     limit: int | None = None) -> list[EventRecord]:
        where, params = ["e.id >= ?"], [after_id // 4]  # a row holds ids id*4 .. id*4+3
        if since is not None:
            where.append("e.at >= ?")
            params.append(epoch(since, "since"))
        if until is not None:
            where.append("e.at < ?")
            params.append(epoch(until, "until"))
        base = f"SELECT {EVENT_COLS} FROM events e JOIN orders o ON o.id = e.oid WHERE "
        tail = " ORDER BY e.id" + (f" LIMIT {int(limit) + 1}" if limit is not None else "")
        with self._reading("events_since") as c:
            if keys is None:
                rows = self._all(c, base + " AND ".join(where) + tail, params)
            else:
                ids = sorted(self._ids(c, list(dict.fromkeys(map(tuple, keys)))).values())
                rows = []
                for part in chunks(ids):
                    marks = ",".join("?" * len(part))
                    rows += self._all(c, base + " AND ".join([*where, f"e.oid IN ({marks})"])
                                      + tail, [*params, *part])
                rows.sort(key=lambda r: r[0])
        found = [e for e in expand(rows) if e.id > after_id]
        return found[:limit] if limit is not None else found

    def undecided_orders(self, older_than_s: float = 0.0, limit: int = 1000,
                         now: datetime | None = None) -> list[Order]:
        cutoff = epoch(now or self.clock.now(), "now") - older_than_s
        with self._reading("undecided_orders") as c:
            rows = self._all(c, UNDECIDED_SQL, (cutoff, cutoff, limit))
        return [Order.model_validate_json(r[1]) for r in rows]

    def held_orders(self, reason: str, limit: int = 1000) -> list[Order]:
        with self._reading("held_orders") as c:
            rows = self._all(c, "SELECT o.id, b.body FROM orders o JOIN order_bodies b "
                                "ON b.id = o.id WHERE o.hold_reason = ? AND o.stage = ? "
                                "ORDER BY o.id LIMIT ?", (reason, Stage.HELD.value, limit))
        return [Order.model_validate_json(r[1]) for r in rows]

    def _warehouse_events(self, c: Any, oids: Sequence[int]) -> set[tuple[int, str, str]]:
        """(order id, stage, tracking number or "") of the warehouse stages already stored
        for ``oids``: the same status from the WMS callback and from the status feed is
        recorded once."""
        held: set[tuple[int, str, str]] = set()
        for part in chunks(sorted(set(oids))):
            marks = ",".join("?" * len(part))
            held.update((r[0], r[1], r[2] or "") for r in self._all(
                c, f"SELECT oid, stage, tracking_no FROM events WHERE oid IN ({marks}) "
                   f"AND stage IN ({WAREHOUSE_IN})", part))
        return held

    def reconcile_candidates(self, sample: int = 2000) -> list[dict[str, Any]]:
        # a cancelled order stays one: the warehouse may have shipped it all the same
        with self._reading("reconcile_candidates") as c:
            rows = self._all(
                c, "SELECT channel, shop, order_id, status, stage FROM orders "
                   "WHERE NOT (stage = 'shipped' AND status IN ('shipped', 'finished')) "
                   "ORDER BY id DESC LIMIT ?", (sample,))
        return [{"key": (r[0], r[1], r[2]), "marketplace_status": r[3], "stage": r[4]}
                for r in rows]
