"""The cluster ledger: PostgreSQL through psycopg 3.

Durability: ``synchronous_commit = on`` is set on the connection (whatever the
server default), so a batch is acknowledged only after its WAL is flushed to
disk; it survives a crash of the hub, of the server process and of the machine
(with the server's own ``fsync = on``).

Batches travel as arrays (``unnest``), one statement per table. (Pipeline mode
was tried and not kept: on the shared two-core machine it gained nothing and cost
the client more CPU per order.) Concurrent writers are safe: orders are upserted
with ``ON CONFLICT ... WHERE newer``, and every write that changes order rows
first locks them in one global order (channel, shop, order id in "C" collation),
so two hubs never deadlock on each other's batches, and the second to decide an
order version waits for the first, then sees its ``decided_us`` and stores
nothing; a deadlock or serialisation failure all the same is retried.

``schema`` (default ``orderhub``) is created when missing and is the whole search
path, so the ledger never meets other applications' tables and several ledgers
(or test runs) can share one database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict

from hub.clock import Clock
from hub.domain.decision import Decision, Stage
from hub.domain.lifecycle import DECIDING, PHASE, moves
from hub.domain.order import Order
from hub.domain.outbox import BACKOFF_BASE_S, BACKOFF_CAP_S, DISPATCH_DESTINATION, backoff_s
from hub.ledger import followups, prepare, schema
from hub.ledger.base import Cursor, LedgerError, OrderKey, OutboxMessage, StageEvent
from hub.ledger.sqlbase import SqlLedger, claimed
from hub.ledger.times import epoch
from hub.ledger.times import epoch as seconds
from hub.ledger.writes import StagePlan, commit_plan, operator_plan, outbox_params, stage_plan

T = TypeVar("T")
RETRIES = 5
RESTAGED = ", ".join(f"'{s}'" for s in [*sorted(s for s, p in PHASE.items() if p <= DECIDING),
                                       Stage.RECONCILE_MISMATCH])
KEY_ORDER = 'o.channel COLLATE "C", o.shop COLLATE "C", o.order_id COLLATE "C"'
FIND_SQL = (
    "SELECT o.channel, o.shop, o.order_id, o.id, o.version_us, o.stage, o.stage_at, "
    "o.tracking_no FROM orders o JOIN unnest(%b::text[], %b::text[], %b::text[]) "
    "AS k(channel, shop, order_id) ON o.order_id = k.order_id AND o.channel = k.channel "
    "AND o.shop = k.shop")
LOCK_SQL = (
    "SELECT o.channel, o.shop, o.order_id, o.id, o.version_us, o.stage, o.stage_at, "
    "o.tracking_no, o.decided_us FROM orders o WHERE o.id = ANY(%b::bigint[]) "
    f"ORDER BY {KEY_ORDER} FOR NO KEY UPDATE OF o")
OID_CACHE = 1_000_000
INGEST_SQL = f"""
INSERT INTO orders AS o (channel, shop, order_id, version_us, status, created_at, received_at,
                         stage, stage_at)
SELECT k.channel, k.shop, k.order_id, k.version_us, k.status, k.created_at, %s, 'received', %s
FROM unnest(%b::text[], %b::text[], %b::text[], %b::bigint[], %b::text[], %b::float8[])
  AS k(channel, shop, order_id, version_us, status, created_at)
ORDER BY k.channel COLLATE "C", k.shop COLLATE "C", k.order_id COLLATE "C"
ON CONFLICT (order_id, channel, shop) DO UPDATE SET
  version_us = excluded.version_us, status = excluded.status,
  stage = CASE WHEN o.stage IN ({RESTAGED}) THEN 'received' ELSE o.stage END,
  stage_at = CASE WHEN o.stage IN ({RESTAGED}) THEN excluded.stage_at ELSE o.stage_at END
WHERE o.version_us < excluded.version_us
RETURNING o.id, o.channel, o.shop, o.order_id, o.version_us"""
ORDER_UPDATE_SQL = """
UPDATE orders o SET stage = u.stage, stage_at = u.stage_at, lane = u.lane, score = u.score,
  packing_group = u.packing_group, hold_reason = u.hold_reason, hold_group = u.hold_group,
  ruleset_version = u.ruleset_version, decided_us = u.decided_us
FROM unnest(%b::text[], %b::float8[], %b::text[], %b::float8[], %b::text[], %b::text[],
            %b::text[], %b::bigint[], %b::bigint[], %b::bigint[])
  AS u(stage, stage_at, lane, score, packing_group, hold_reason, hold_group, ruleset_version,
       decided_us, id)
WHERE o.id = u.id"""


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to one list per column (psycopg sends each list as one array parameter)."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[]] * width


class PostgresLedger(SqlLedger):
    dialect = "postgres"
    lock_row, share_row = " FOR UPDATE", " FOR SHARE"

    def __init__(self, dsn: str, *, clock: Clock | None = None, schema: str = "orderhub",
                 connect_timeout_s: float = 10.0) -> None:
        try:
            info = conninfo_to_dict(dsn)
        except psycopg.Error as exc:
            raise LedgerError(f"PostgreSQL ledger address is not valid: {exc}") from None
        self.dsn, self.schema = dsn, schema
        self.where = (f"PostgreSQL ledger {info.get('user', '')}@{info.get('host', '')}:"
                      f"{info.get('port', 5432)}/{info.get('dbname', '')} schema {schema}")
        self.clock = clock or Clock()
        self.connect_timeout_s = connect_timeout_s
        self._lock = threading.RLock()
        self._oids: dict[OrderKey, int] = {}
        self.conn = self._connect()
        try:
            self._open()
        except BaseException:
            self.conn.close()
            raise

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True,
                                   connect_timeout=max(1, int(self.connect_timeout_s)))
            conn.execute("SET synchronous_commit TO on")
            ident = pgsql.Identifier(self.schema)
            if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                            (self.schema,)).fetchone() is None:
                conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            conn.execute(pgsql.SQL("SET search_path TO {}").format(ident))
        except psycopg.Error as exc:
            raise LedgerError(f"{self.where}: cannot connect and open the schema: "
                              f"{str(exc).strip().splitlines()[0]}") from None
        return conn

    def _open(self) -> None:
        with self._lock, self._errors("open"):
            tables, app, version = self._inspect(self.conn)
            if schema.check(self.where, tables, app, version):
                self._run("migrate", self._migrate)

    def _inspect(self, c: Any) -> tuple[set[str], str | None, int]:
        tables = {r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (self.schema,))}
        if "ledger_meta" not in tables:
            return tables, None, 0
        row = c.execute("SELECT value FROM ledger_meta WHERE key = 'application'").fetchone()
        version = 0
        if "ledger_migrations" in tables:
            version = c.execute("SELECT COALESCE(MAX(version), 0) FROM ledger_migrations"
                                ).fetchone()[0]
        return tables, row[0] if row else None, version

    def _migrate(self, c: Any) -> None:
        c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"orderhub:{self.schema}",))
        tables, app, version = self._inspect(c)
        for step in schema.check(self.where, tables, app, version):
            for statement in step.statements("postgres"):
                c.execute(statement)
            c.execute("INSERT INTO ledger_migrations (version, name, applied_at) "
                      "VALUES (%s, %s, %s)",
                      (step.version, step.name, self.clock.now().timestamp()))

    def settings(self) -> dict[str, str]:
        """The durability settings in force on this connection (asserted by the tests)."""
        with self._reading("settings") as c:
            return {name: c.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("synchronous_commit", "fsync", "search_path")}

    # -- transactions and errors -------------------------------------------------------------
    @contextmanager
    def _errors(self, what: str) -> Any:
        try:
            yield
        except LedgerError:
            raise
        except psycopg.OperationalError as exc:
            raise LedgerError(f"{self.where}: {what} failed, server unreachable or gone: "
                              f"{str(exc).strip().splitlines()[0]}") from None
        except psycopg.Error as exc:
            raise LedgerError(f"{self.where}: {what} failed: "
                              f"{str(exc).strip().splitlines()[0]}") from None

    def _ensure(self) -> None:
        if self.conn.closed or self.conn.broken:
            self.conn = self._connect()

    def _run(self, what: str, work: Callable[[Any], T]) -> T:
        """``work(conn)`` in one transaction, retried on deadlock or serialisation failure."""
        with self._lock, self._errors(what):
            self._ensure()
            for attempt in range(RETRIES):
                try:
                    with self.conn.transaction():
                        return work(self.conn)
                except (pgerrors.DeadlockDetected, pgerrors.SerializationFailure):
                    if attempt == RETRIES - 1:
                        raise
                    time.sleep(0.01 * 2 ** attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _reading(self, what: str) -> Any:
        with self._lock, self._errors(what):
            self._ensure()
            yield self.conn

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _ids(self, c: Any, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        """Row ids of the stored orders among ``keys`` (an order's id never changes)."""
        ids = {k: self._oids[k] for k in keys if k in self._oids}
        unknown = [k for k in keys if k not in ids]
        if unknown:
            for r in c.execute(FIND_SQL, columns(unknown, 3)).fetchall():
                ids[(r[0], r[1], r[2])] = r[3]
                self._remember((r[0], r[1], r[2]), r[3])
        return ids

    def _remember(self, key: OrderKey, oid: int) -> None:
        if len(self._oids) >= OID_CACHE:
            self._oids.clear()
        self._oids[key] = oid

    def _found(self, c: Any, keys: Sequence[OrderKey]) -> dict:
        """key -> [id, version_us, stage, stage_at, tracking_no, decided_us], the rows
        locked in key order (every writer locks in this order, so writers never deadlock)."""
        ids = self._ids(c, keys)
        if not ids:
            return {}
        rows = c.execute(LOCK_SQL, (list(ids.values()),)).fetchall()
        return {(r[0], r[1], r[2]): list(r[3:]) for r in rows}

    @staticmethod
    def _insert(c: Any, table: str, names: str, types: str, rows: Sequence[tuple],
                tail: str = "") -> list:
        if not rows:
            return []
        arrays = ", ".join(f"%b::{t}[]" for t in types.split())
        cur = c.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}",
                        columns(rows, len(types.split())))
        return cur.fetchall() if tail and "RETURNING" in tail else []

    def _events(self, c: Any, rows: Sequence[tuple], decision: bool) -> None:
        if decision:
            self._insert(c, "events", "oid, stage, at, version_us, ruleset_version, steps, detail, "
                         "body", "bigint text float8 bigint bigint text bytea bytea", rows)
        else:
            self._insert(c, "events", "oid, stage, at, tracking_no, detail",
                         "bigint text float8 text bytea", rows)

    def _outbox(self, c: Any, rows: Sequence[tuple]) -> None:
        self._insert(c, "outbox", "key, destination, oid, payload, created_at, next_attempt_at",
                     "text text bigint bytea float8 float8", rows, "ON CONFLICT (key) DO NOTHING")

    @staticmethod
    def _dispatches(c: Any, keys: list[str]) -> followups.Dispatches:
        """The orders' dispatch rows, locked (a relay's claim skips them or is waited for)."""
        if not keys:
            return {}
        rows = c.execute("SELECT key, id, attempts, delivered_at, payload, dead_at FROM outbox "
                         "WHERE key = ANY(%s) ORDER BY id FOR UPDATE", (keys,)).fetchall()
        return {key: (rid, followups.dispatch_state(delivered_at, attempts, dead_at), payload)
                for key, rid, attempts, delivered_at, payload, dead_at in rows}

    def _follow_up(self, c: Any, later: followups.FollowUpPlan) -> None:
        if later.withdrawn:
            c.execute("DELETE FROM outbox WHERE id = ANY(%b::bigint[]) AND delivered_at IS NULL",
                      (later.withdrawn,))
        if later.payloads:
            c.execute("UPDATE outbox o SET payload = u.payload FROM unnest(%b::bytea[], "
                      "%b::bigint[]) AS u(payload, id) WHERE o.id = u.id",
                      columns(later.payloads, 2))
        self._apply_stages(c, StagePlan(events=later.events, updates=later.updates))

    # -- writes -----------------------------------------------------------------------------
    def ingest(self, orders: Sequence[Order], *, cursor: Cursor | None = None,
               at: datetime | None = None) -> list[Order]:
        return [r.order for r in self.ingest_rows(prepare.order_rows(orders), cursor=cursor,
                                                  at=at)]  # type: ignore[misc]

    def ingest_rows(self, rows: Sequence[prepare.OrderRow], *, cursor: Cursor | None = None,
                    at: datetime | None = None) -> list[prepare.OrderRow]:
        """``ingest`` of prepared rows (``prepare.order_rows`` or ``wire_rows``): the
        rows of the new or changed versions."""
        at_s = epoch(at or self.clock.now(), "ingest at")
        end = epoch(cursor.window_end, "cursor window_end") if cursor is not None else None
        if not rows and cursor is None:
            return []

        def work(c: Any) -> dict[OrderKey, int]:
            got = []
            stored = self._versions(c, [r.key for r in rows])
            fresh = [r for r in rows if r.version_us > stored.get(r.key, -1)]
            if fresh:  # the upsert's WHERE guards against a stored or concurrent newer version
                params = columns([(*r.key, r.version_us, r.status, r.created_at)
                                  for r in fresh], 6)
                got = c.execute(INGEST_SQL, [at_s, at_s, *params]).fetchall()
                self._insert(c, "events", "oid, stage, at, version_us", "bigint text float8 bigint",
                             [(g[0], Stage.RECEIVED.value, at_s, g[4]) for g in got])
                by_key = {r.key: r for r in fresh}
                self._insert(c, "order_bodies", "id, body", "bigint bytea",
                             [(g[0], by_key[(g[1], g[2], g[3])].body) for g in got],
                             "ON CONFLICT (id) DO UPDATE SET body = excluded.body")
            if cursor is not None:
                self._set_cursor(c, cursor.channel, cursor.shop, end, cursor.epoch)
            changed = {(g[1], g[2], g[3]): g[0] for g in got}
            if len(changed) < len(fresh):  # versions already stored: learn their ids
                self._ids(c, [r.key for r in fresh if r.key not in changed])
            return changed

        changed = self._run("ingest", work)
        for key, oid in changed.items():
            self._remember(key, oid)
        return [r for r in rows if r.key in changed]

    def _versions(self, c: Any, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        """Stored versions of the ``keys`` whose row id is known (unlocked: only to skip
        re-pulled versions before sending them; unknown keys go to the upsert, which
        keeps the newer version, and have their ids looked up afterwards)."""
        oids = self._oids
        return self._versions_of(c, {oids[k]: k for k in keys if k in oids})

    @staticmethod
    def _versions_of(c: Any, by_id: dict[int, OrderKey]) -> dict[OrderKey, int]:
        if not by_id:
            return {}
        rows = c.execute("SELECT id, version_us FROM orders WHERE id = ANY(%b::bigint[])",
                         (list(by_id),)).fetchall()
        return {by_id[oid]: version for oid, version in rows}

    def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        with self._reading("stored_versions") as c:
            return self._versions_of(c, {oid: k for k, oid in self._ids(c, keys).items()})

    def commit_decisions(self, decisions: Sequence[Decision], outbox: Sequence[OutboxMessage],
                         *, at: datetime | None = None) -> int:
        drows = prepare.decision_rows(decisions)
        orows = prepare.outbox_rows(outbox)
        at_s = epoch(at or self.clock.now(), "commit_decisions at")
        if not drows and not orows:
            return 0
        keys = list(dict.fromkeys([d.key for d in drows] +
                                  [o.order_ref for o in orows if o.order_ref]))

        def work(c: Any) -> int:
            found = self._found(c, keys)
            plan = commit_plan(drows, found, at_s)
            self._events(c, plan.events, decision=True)
            if plan.updates:
                c.execute(ORDER_UPDATE_SQL, columns(plan.updates, 10))
            later = followups.settle(orows, found, plan, self._dispatches(
                c, followups.wanted(plan)), at_s)
            self._outbox(c, later.inserts)
            if later.withdrawn or later.payloads or later.events:
                self._follow_up(c, later)
            return plan.stored

        return self._run("commit_decisions", work)

    def record_stage(self, events: Sequence[StageEvent],
                     outbox: Sequence[OutboxMessage] = ()) -> int:
        srows = prepare.stage_rows(events)
        orows = prepare.outbox_rows(outbox)
        if not srows and not orows:
            return 0
        keys = list(dict.fromkeys([s.key for s in srows] +
                                  [o.order_ref for o in orows if o.order_ref]))
        at_s = srows[-1].at if srows else epoch(self.clock.now())

        def work(c: Any) -> int:
            found = self._found(c, keys)
            plan = stage_plan(srows, found, self._warehouse_events(
                c, [h[0] for h in found.values()]))
            self._apply_stages(c, plan)
            self._outbox(c, outbox_params(orows, found, set(), at_s))
            return len(plan.events)

        return self._run("record_stage", work)

    def apply_operator_action(self, key: OrderKey, stage: str, at: datetime,
                              detail: dict[str, Any], *, only_from: Sequence[str] = (),
                              outbox: Sequence[OutboxMessage] = (),
                              amended: Order | None = None,
                              decision: Decision | None = None) -> bool:
        rows = prepare.operator_rows(key, stage, at, detail, only_from, outbox, amended,
                                     decision)
        at_s = rows.event[0].at

        def work(c: Any) -> bool:
            plan = operator_plan(rows, self._found(c, [rows.key]), at_s)
            if plan is None:
                return False
            if plan.order is not None:
                c.execute("UPDATE orders SET version_us = %s, status = %s, stage = %s, "
                          "stage_at = %s WHERE id = %s", plan.order)
                self._insert(c, "order_bodies", "id, body", "bigint bytea", [plan.body],
                             "ON CONFLICT (id) DO UPDATE SET body = excluded.body")
                self._insert(c, "events", "oid, stage, at, version_us",
                             "bigint text float8 bigint", [plan.received])
            self._events(c, plan.decided.events, decision=True)
            if plan.decided.updates:
                c.execute(ORDER_UPDATE_SQL, columns(plan.decided.updates, 10))
            self._outbox(c, plan.outbox)
            self._apply_stages(c, plan.staged)
            return True

        return self._run("apply_operator_action", work)

    def _apply_stages(self, c: Any, plan: Any) -> None:
        self._events(c, plan.events, decision=False)
        if plan.updates:
            c.execute("UPDATE orders o SET stage = u.stage, stage_at = u.stage_at, "
                      "tracking_no = u.tracking_no FROM unnest(%b::text[], %b::float8[], "
                      "%b::text[], %b::bigint[]) AS u(stage, stage_at, tracking_no, id) "
                      "WHERE o.id = u.id", columns(plan.updates, 4))
        self._insert(c, "quarantine", "channel, shop, raw, error, at",
                     "text text bytea text float8", plan.quarantine)

    def _set_cursor(self, c: Any, channel: str, shop: str, end: float | None,
                    lease_epoch: int | None = None) -> None:
        self._fence(c, channel, shop, lease_epoch)
        c.execute("INSERT INTO cursors (channel, shop, window_end, epoch) VALUES (%s, %s, %s, %s) "
                  "ON CONFLICT (channel, shop) DO UPDATE SET window_end = excluded.window_end, "
                  "epoch = excluded.epoch", (channel, shop, end, lease_epoch))

    def set_cursor(self, channel: str, shop: str, window_end: datetime,
                   epoch: int | None = None) -> None:
        end = seconds(window_end, "window_end")
        self._run("set_cursor", lambda c: self._set_cursor(c, channel, shop, end, epoch))

    def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                       at: datetime) -> int:
        data = prepare.raw_bytes(raw)
        params = (channel, shop, data, prepare.error_text(error), epoch(at, "quarantine at"))
        return self._run("quarantine_add", lambda c: c.execute(
            "INSERT INTO quarantine (channel, shop, raw, error, at) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING id", params).fetchone()[0])

    def _write(self, what: str, work: Callable[[Any], T]) -> T:
        return self._run(what, work)

    # -- outbox -----------------------------------------------------------------------------
    def claim(self, n: int, lease_s: float, now: datetime) -> list[OutboxMessage]:
        return claimed(self.claim_rows(n, lease_s, now))

    def claim_rows(self, n: int, lease_s: float, now: datetime) -> list[Any]:
        """``claim``'s rows as stored: (id, destination, key, payload JSON, attempts,
        next attempt at in epoch seconds, last error), the payload not parsed here."""
        now_s = epoch(now, "claim now")
        rows = self._run("claim", lambda c: c.execute(
            "UPDATE outbox SET next_attempt_at = %s, attempts = attempts + 1 WHERE id IN "
            "(SELECT id FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL "
            "AND next_attempt_at <= %s "
            "ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
            "RETURNING id, destination, key, payload, attempts, next_attempt_at, last_error",
            (now_s + lease_s, now_s, n)).fetchall())
        return sorted(rows, key=lambda r: r[0])

    def delivered(self, ids: Sequence[int], now: datetime) -> int:
        now_s = epoch(now, "delivered now")
        ids = list(dict.fromkeys(int(i) for i in ids))

        def work(c: Any) -> int:
            rows = c.execute("UPDATE outbox SET delivered_at = %s, last_error = NULL "
                             "WHERE delivered_at IS NULL AND id = ANY(%b::bigint[]) "
                             "RETURNING destination, oid", (now_s, ids)).fetchall()
            oids = [oid for dest, oid in rows if dest == DISPATCH_DESTINATION and oid]
            if oids:
                found = c.execute(f"SELECT o.id, o.stage FROM orders o WHERE o.id = ANY(%s) "
                                  f"ORDER BY {KEY_ORDER} FOR NO KEY UPDATE", (oids,)).fetchall()
                self._events(c, [(oid, Stage.DISPATCHED.value, now_s, None, None)
                                 for oid, _ in found],
                             decision=False)
                moved = [oid for oid, stage in found if moves(stage, Stage.DISPATCHED)]
                if moved:
                    c.execute("UPDATE orders SET stage = 'dispatched', stage_at = %s "
                              "WHERE id = ANY(%b::bigint[])", (now_s, moved))
            return len(rows)

        return self._run("delivered", work)

    def failed(self, message_id: int, error: str, now: datetime) -> None:
        now_s = epoch(now, "failed now")

        def work(c: Any) -> None:
            row = c.execute("SELECT attempts FROM outbox WHERE id = %s FOR UPDATE",
                            (message_id,)).fetchone()
            if row is None:
                raise LedgerError(f"outbox row {message_id} does not exist")
            c.execute("UPDATE outbox SET last_error = %s, next_attempt_at = %s "
                      "WHERE id = %s AND delivered_at IS NULL",
                      (prepare.error_text(error), now_s + backoff_s(row[0]), message_id))

        self._run("failed", work)

    def failed_many(self, failures: Sequence[tuple[int, str]], now: datetime, *,
                    dead: Sequence[tuple[int, str]] = (), events: Sequence[StageEvent] = (),
                    outbox: Sequence[OutboxMessage] = ()) -> int:
        now_s = epoch(now, "failed_many now")
        srows = prepare.stage_rows(events)
        orows = prepare.outbox_rows(outbox)
        if not failures and not dead and not srows and not orows:
            return 0
        keys = list(dict.fromkeys([s.key for s in srows] +
                                  [o.order_ref for o in orows if o.order_ref]))
        retry = [(int(i), prepare.error_text(e)) for i, e in failures]
        gone = [(int(i), prepare.error_text(e)) for i, e in dead]

        def work(c: Any) -> int:
            found = self._found(c, keys) if keys else {}  # orders first, as every writer
            marked = c.execute(
                "UPDATE outbox o SET last_error = u.error, next_attempt_at = %s + CASE "
                "WHEN u.dead THEN 0 ELSE LEAST(%s::float8 * power(2.0::float8, "
                "GREATEST(o.attempts - 1, 0)), %s::float8) END, "
                "dead_at = CASE WHEN u.dead THEN %s::float8 ELSE o.dead_at END "
                "FROM unnest(%b::bigint[], %b::text[], %b::bool[]) AS u(id, error, dead) "
                "WHERE o.id = u.id AND o.delivered_at IS NULL RETURNING o.id",
                (now_s, BACKOFF_BASE_S, BACKOFF_CAP_S, now_s,
                 *columns([(i, e, False) for i, e in retry] + [(i, e, True) for i, e in gone],
                          3))).fetchall()
            if srows or orows:
                self._apply_stages(c, stage_plan(srows, found, set()))
                self._outbox(c, outbox_params(orows, found, set(), now_s))
            return len(marked)

        return self._run("failed_many", work)

    def resend_dead_letter(self, message_id: int, at: datetime, detail: dict[str, Any]) -> bool:
        at_s = epoch(at, "resend at")
        released = Stage.RELEASED.value

        def work(c: Any) -> bool:
            row = c.execute("UPDATE outbox SET dead_at = NULL, attempts = 0, last_error = NULL, "
                            "next_attempt_at = %s WHERE id = %s AND dead_at IS NOT NULL "
                            "AND delivered_at IS NULL RETURNING oid",
                            (at_s, int(message_id))).fetchone()
            if row is None:
                return False
            if row[0] is not None:
                stage = c.execute("SELECT stage FROM orders WHERE id = %s FOR NO KEY UPDATE",
                                  (row[0],)).fetchone()
                self._events(c, [(row[0], released, at_s, None, prepare.blob(detail))],
                             decision=False)
                if stage is not None and moves(stage[0], released):
                    c.execute("UPDATE orders SET stage = %s, stage_at = %s WHERE id = %s",
                              (released, at_s, row[0]))
            return True

        return self._run("resend_dead_letter", work)

    def close(self) -> None:
        with self._lock:
            self.conn.close()
