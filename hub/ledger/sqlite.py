"""The embedded ledger: one SQLite file in WAL mode.

Durability: ``journal_mode=WAL`` and ``synchronous=NORMAL``. A transaction is
committed once its WAL frames are written (``write()``) to the file; the OS
keeps them even if the process is killed, so every acknowledged batch survives
a crash of the hub process (``kill -9``; tests/ledger/test_kill9.py proves it).
NORMAL does not fsync the WAL at each commit, so an OS crash or power loss may
roll back the last transactions (never corrupt the file); pass
``synchronous="full"`` (``sqlite:///path?synchronous=full``) to fsync at every
commit when that matters more than throughput.

Writers serialise on the file's write lock (``BEGIN IMMEDIATE``); a writer that
waits longer than ``busy_timeout_s`` gets LockedError. Readers never block.

>>> from hub.ledger.schema import LATEST
>>> from hub.ledger.sqlite import SQLiteLedger
>>> with SQLiteLedger(":memory:") as ledger:
...     ledger.schema_version() == LATEST
True
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.clock import Clock
from hub.domain.decision import Decision, Stage
from hub.domain.lifecycle import moves
from hub.domain.order import Order
from hub.domain.outbox import DISPATCH_DESTINATION, backoff_s
from hub.ledger import followups, prepare, schema
from hub.ledger.base import (
    Cursor,
    LedgerError,
    LockedError,
    OrderKey,
    OutboxMessage,
    SchemaError,
    StageEvent,
)
from hub.ledger.sqlbase import SqlLedger, chunks, claimed
from hub.ledger.sqlite_batch import NULL, insert, update_orders
from hub.ledger.times import epoch
from hub.ledger.times import epoch as seconds
from hub.ledger.writes import StagePlan, commit_plan, operator_plan, outbox_params, stage_plan

log = logging.getLogger("orderhub.ledger")
SYNCHRONOUS = ("normal", "full")
KEY_CHUNK = 900  # 2,700 parameters per lookup
OID_CACHE = 1_000_000  # order key -> row id, for reading orders by id
RECEIVED, DISPATCHED = Stage.RECEIVED.value, Stage.DISPATCHED.value  # plain str binds fastest
RELEASED = Stage.RELEASED.value



class Checkpointer(threading.Thread):
    """Copies the WAL back into the database file every few seconds, on its own connection
    and core, so writers rarely pay for it (``wal_autocheckpoint`` stays as the backstop).
    A PASSIVE checkpoint never blocks a writer or a reader. A page written again and again
    between two checkpoints (an index's, the outbox's, an order's as its stage moves) is
    copied once per checkpoint, so a longer interval copies less; what is durable does not
    depend on it (the WAL is)."""

    def __init__(self, path: str, every_s: float) -> None:
        super().__init__(name=f"ledger-checkpoint:{Path(path).name}", daemon=True)
        self.path, self.every_s = path, every_s
        self._stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
        try:
            while not self._stopping.wait(self.every_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the writer's own checkpoints still run
                    log.warning("background checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5.0)


class SQLiteLedger(SqlLedger):
    dialect = "sqlite"

    def __init__(self, path: str | Path, *, clock: Clock | None = None,
                 busy_timeout_s: float = 5.0, synchronous: str = "normal",
                 wal_autocheckpoint: int = 16000, checkpoint_every_s: float | None = 3.0) -> None:
        if synchronous not in SYNCHRONOUS:
            raise LedgerError(f"synchronous={synchronous!r}: use one of {SYNCHRONOUS}")
        self.path = str(path)
        self.where = f"SQLite ledger {self.path}"
        self.clock = clock or Clock()
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._oids: dict[OrderKey, int] = {}
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                        check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.where}: cannot open: {exc}") from None
        try:
            self._open(synchronous, wal_autocheckpoint)
        except BaseException:
            self.conn.close()
            raise
        self._checkpointer = None
        if self.path != ":memory:" and checkpoint_every_s:
            self._checkpointer = Checkpointer(self.path, checkpoint_every_s)
            self._checkpointer.start()

    # -- opening ----------------------------------------------------------------------------
    def _open(self, synchronous: str, wal_autocheckpoint: int) -> None:
        c = self.conn
        if c.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) < KEY_CHUNK * 3:
            raise LedgerError(f"SQLite {sqlite3.sqlite_version} allows too few parameters per "
                              "statement; the ledger needs SQLite 3.32 or newer")
        with self._errors("open"):
            c.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            tables, app, version = self._inspect()
            todo = schema.check(self.where, tables, app, version)  # before changing anything
            c.execute("PRAGMA journal_mode = WAL")
            c.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            c.execute(f"PRAGMA wal_autocheckpoint = {int(wal_autocheckpoint)}")
            c.execute("PRAGMA cache_size = -65536")
            c.execute("PRAGMA temp_store = MEMORY")
            if todo:
                self._migrate()

    def _inspect(self) -> tuple[set[str], str | None, int]:
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "ledger_meta" not in tables:
            return tables, None, 0
        app = self.conn.execute("SELECT value FROM ledger_meta WHERE key = 'application'")
        row = app.fetchone()
        version = 0
        if "ledger_migrations" in tables:
            version = self.conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM ledger_migrations").fetchone()[0]
        return tables, row[0] if row else None, version

    def _migrate(self) -> None:
        with self._tx("migrate") as c:
            tables, app, version = self._inspect()  # again, under the write lock
            for step in schema.check(self.where, tables, app, version):
                for statement in step.statements("sqlite"):
                    c.execute(statement)
                c.execute("INSERT INTO ledger_migrations (version, name, applied_at) "
                          "VALUES (?, ?, ?)", (step.version, step.name, self.clock.now()
                                               .timestamp()))

    def pragmas(self) -> dict[str, Any]:
        """The durability settings in force (asserted by the tests)."""
        with self._reading("pragmas") as c:
            return {name: c.execute(f"PRAGMA {name}").fetchone()[0]
                    for name in ("journal_mode", "synchronous", "busy_timeout",
                                 "wal_autocheckpoint")}

    # -- transactions and errors -------------------------------------------------------------
    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise LockedError(
                    f"{self.where} is locked by another writer: {what} gave up after the "
                    f"{self.busy_timeout_s:g} s busy timeout; nothing of this call was "
                    "stored, retry it") from None
            raise LedgerError(f"{self.where}: {what} failed: {text}") from None
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "not a database" in text or "malformed" in text:
                raise SchemaError(f"{self.where} is not a usable SQLite database ({text}); "
                                  "refusing to touch it") from None
            raise LedgerError(f"{self.where}: {what} failed: {text}") from None

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(what):
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    @contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(what):
            c = self.conn
            c.execute("BEGIN")
            try:
                yield c
            finally:
                c.execute("COMMIT")

    def _found(self, c: sqlite3.Connection, keys: Sequence[OrderKey]) -> dict[OrderKey, list]:
        """key -> [id, version_us, stage, stage_at, tracking_no, decided_us] of the stored
        orders.

        Known keys are read by row id (an order's id never changes), the others by
        channel order id through the key index."""
        found: dict[OrderKey, list] = {}
        known = {self._oids[k]: k for k in keys if k in self._oids}
        for part in chunks(list(known), KEY_CHUNK * 3):
            marks = ",".join("?" * len(part))
            for row in c.execute("SELECT id, version_us, stage, stage_at, tracking_no, "
                                 f"decided_us FROM orders WHERE id IN ({marks})", part):
                found[known[row[0]]] = list(row)
        wanted = {k for k in keys if k not in found}
        for part in chunks(sorted({k[2] for k in wanted}), KEY_CHUNK * 3):
            marks = ",".join("?" * len(part))
            for row in c.execute("SELECT channel, shop, order_id, id, version_us, stage, "
                                 "stage_at, tracking_no, decided_us FROM orders "
                                 f"WHERE order_id IN ({marks})", part):
                key = (row[0], row[1], row[2])
                if key in wanted:
                    found[key] = list(row[3:])
                    self._remember(key, row[3])
        return found

    def _remember(self, key: OrderKey, oid: int) -> None:
        if len(self._oids) >= OID_CACHE:
            self._oids.clear()
        self._oids[key] = oid

    def _ids(self, c: Any, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        return {k: v[0] for k, v in self._found(c, keys).items()}

    def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        with self._reading("stored_versions") as c:
            return {k: v[1] for k, v in self._found(c, keys).items()}

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
        if cursor is not None:
            end = epoch(cursor.window_end, "cursor window_end")
        if not rows and cursor is None:
            return []
        with self._tx("ingest") as c:
            found = self._found(c, [r.key for r in rows])
            next_id = c.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]
            inserts, updates, events, bodies = [], [], [], []
            changed: set[OrderKey] = set()
            for r in sorted(rows, key=lambda r: r.key):  # ids in key order, as on PostgreSQL
                hit = found.get(r.key)
                if hit is None:
                    next_id += 1
                    inserts.append((next_id, *r.key, r.version_us, r.status, r.created_at,
                                    at_s, RECEIVED, at_s))
                    bodies.append((next_id, r.body))
                    events.append((next_id, RECEIVED, at_s, r.version_us))
                elif r.version_us > hit[1]:
                    stage, stage_at = (RECEIVED, at_s) if moves(hit[2], RECEIVED) \
                        else (hit[2], hit[3])
                    updates.append((r.version_us, r.status, stage, stage_at, hit[0]))
                    bodies.append((hit[0], r.body))
                    events.append((hit[0], RECEIVED, at_s, r.version_us))
                else:
                    continue
                changed.add(r.key)
            insert(c, "INSERT INTO orders (id, channel, shop, order_id, version_us, status, "
                      "created_at, received_at, stage, stage_at)", inserts)
            c.executemany("UPDATE orders SET version_us = ?, status = ?, stage = ?, "
                          "stage_at = ? WHERE id = ?", updates)
            insert(c, "INSERT INTO order_bodies (id, body)", bodies,
                   " ON CONFLICT (id) DO UPDATE SET body = excluded.body")
            insert(c, "INSERT INTO events (oid, stage, at, version_us)", events)
            if cursor is not None:
                self._set_cursor(c, cursor.channel, cursor.shop, end, cursor.epoch)
        for oid, *key in (row[:4] for row in inserts):  # committed: their ids are real
            self._remember(tuple(key), oid)  # type: ignore[arg-type]
        return [r for r in rows if r.key in changed]

    def commit_decisions(self, decisions: Sequence[Decision], outbox: Sequence[OutboxMessage],
                         *, at: datetime | None = None) -> int:
        drows = prepare.decision_rows(decisions)
        orows = prepare.outbox_rows(outbox)
        at_s = epoch(at or self.clock.now(), "commit_decisions at")
        if not drows and not orows:
            return 0
        keys = list(dict.fromkeys([d.key for d in drows] +
                                  [o.order_ref for o in orows if o.order_ref]))
        with self._tx("commit_decisions") as c:
            found = self._found(c, keys)
            plan = commit_plan(drows, found, at_s, null=NULL)
            insert(c, "INSERT INTO events (oid, stage, at, version_us, ruleset_version, steps, "
                      "detail, body)", plan.events)
            update_orders(c, plan.updates)
            later = followups.settle(orows, found, plan, self._dispatches(
                c, followups.wanted(plan)), at_s, null=NULL)
            self._outbox(c, later.inserts)
            if later.withdrawn or later.payloads or later.events:
                self._follow_up(c, later)
        return plan.stored

    def _dispatches(self, c: sqlite3.Connection, keys: list[str]) -> followups.Dispatches:
        found: followups.Dispatches = {}
        for part in chunks(keys, KEY_CHUNK):
            marks = ",".join("?" * len(part))
            for key, rid, attempts, delivered_at, payload, dead_at in c.execute(
                    "SELECT key, id, attempts, delivered_at, payload, dead_at FROM outbox "
                    f"WHERE key IN ({marks})", part):
                found[key] = (rid, followups.dispatch_state(delivered_at, attempts, dead_at),
                              payload)
        return found

    def _follow_up(self, c: sqlite3.Connection, later: followups.FollowUpPlan) -> None:
        c.executemany("DELETE FROM outbox WHERE id = ? AND delivered_at IS NULL",
                      [(rid,) for rid in later.withdrawn])
        c.executemany("UPDATE outbox SET payload = ? WHERE id = ?", later.payloads)
        self._apply_stages(c, StagePlan(events=later.events, updates=later.updates))

    def _outbox(self, c: sqlite3.Connection, params: list[tuple]) -> None:
        insert(c, "INSERT INTO outbox (key, destination, oid, payload, created_at, "
                  "next_attempt_at)", params, " ON CONFLICT (key) DO NOTHING")

    def record_stage(self, events: Sequence[StageEvent],
                     outbox: Sequence[OutboxMessage] = ()) -> int:
        srows = prepare.stage_rows(events)
        orows = prepare.outbox_rows(outbox)
        if not srows and not orows:
            return 0
        keys = list(dict.fromkeys([s.key for s in srows] +
                                  [o.order_ref for o in orows if o.order_ref]))
        with self._tx("record_stage") as c:
            found = self._found(c, keys)
            plan = stage_plan(srows, found, self._warehouse_events(
                c, [h[0] for h in found.values()]))
            self._apply_stages(c, plan)
            at_s = srows[-1].at if srows else epoch(self.clock.now())
            self._outbox(c, outbox_params(orows, found, set(), at_s))
        return len(plan.events)

    def apply_operator_action(self, key: OrderKey, stage: str, at: datetime,
                              detail: dict[str, Any], *, only_from: Sequence[str] = (),
                              outbox: Sequence[OutboxMessage] = (),
                              amended: Order | None = None,
                              decision: Decision | None = None) -> bool:
        rows = prepare.operator_rows(key, stage, at, detail, only_from, outbox, amended,
                                     decision)
        at_s = rows.event[0].at
        with self._tx("apply_operator_action") as c:
            plan = operator_plan(rows, self._found(c, [rows.key]), at_s, null=NULL)
            if plan is None:
                return False
            if plan.order is not None:
                c.execute("UPDATE orders SET version_us = ?, status = ?, stage = ?, "
                          "stage_at = ? WHERE id = ?", plan.order)
                insert(c, "INSERT INTO order_bodies (id, body)", [plan.body],
                       " ON CONFLICT (id) DO UPDATE SET body = excluded.body")
                insert(c, "INSERT INTO events (oid, stage, at, version_us)", [plan.received])
            insert(c, "INSERT INTO events (oid, stage, at, version_us, ruleset_version, steps, "
                      "detail, body)", plan.decided.events)
            update_orders(c, plan.decided.updates)
            self._outbox(c, plan.outbox)
            self._apply_stages(c, plan.staged)
        return True

    def _apply_stages(self, c: sqlite3.Connection, plan: Any) -> None:
        insert(c, "INSERT INTO events (oid, stage, at, tracking_no, detail)", plan.events)
        c.executemany("UPDATE orders SET stage = ?, stage_at = ?, tracking_no = ? WHERE id = ?",
                      plan.updates)
        insert(c, "INSERT INTO quarantine (channel, shop, raw, error, at)", plan.quarantine)

    def _set_cursor(self, c: sqlite3.Connection, channel: str, shop: str, end: float,
                    lease_epoch: int | None = None) -> None:
        self._fence(c, channel, shop, lease_epoch)
        c.execute("INSERT INTO cursors (channel, shop, window_end, epoch) VALUES (?,?,?,?) "
                  "ON CONFLICT (channel, shop) DO UPDATE SET window_end = excluded.window_end, "
                  "epoch = excluded.epoch", (channel, shop, end, lease_epoch))

    def set_cursor(self, channel: str, shop: str, window_end: datetime,
                   epoch: int | None = None) -> None:
        end = seconds(window_end, "window_end")
        with self._tx("set_cursor") as c:
            self._set_cursor(c, channel, shop, end, epoch)

    def _run(self, what: str, work: Any) -> Any:
        """``work(connection)`` in one write transaction (the leases' writes)."""
        with self._tx(what) as c:
            return work(c)

    def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                       at: datetime) -> int:
        data = prepare.raw_bytes(raw)
        at_s = epoch(at, "quarantine at")
        with self._tx("quarantine_add") as c:
            cur = c.execute("INSERT INTO quarantine (channel, shop, raw, error, at) "
                            "VALUES (?,?,?,?,?)",
                            (channel, shop, data, prepare.error_text(error), at_s))
            return int(cur.lastrowid or 0)

    def _write(self, what: str, work: Any) -> Any:
        with self._tx(what) as c:
            return work(c)

    # -- outbox -----------------------------------------------------------------------------
    def claim(self, n: int, lease_s: float, now: datetime) -> list[OutboxMessage]:
        return claimed(self.claim_rows(n, lease_s, now))

    def claim_rows(self, n: int, lease_s: float, now: datetime) -> list[Any]:
        """``claim``'s rows as stored: (id, destination, key, payload JSON, attempts,
        next attempt at in epoch seconds, last error), the payload not parsed here."""
        now_s = epoch(now, "claim now")
        with self._tx("claim") as c:
            rows = c.execute(
                "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1 WHERE id IN "
                "(SELECT id FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL "
                "AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?) "
                "RETURNING id, destination, key, payload, attempts, next_attempt_at, last_error",
                (now_s + lease_s, now_s, n)).fetchall()
        return sorted(rows, key=lambda r: r[0])

    def delivered(self, ids: Sequence[int], now: datetime) -> int:
        now_s = epoch(now, "delivered now")
        ids = list(dict.fromkeys(int(i) for i in ids))
        done = 0
        with self._tx("delivered") as c:
            dispatch: list[int] = []
            for part in chunks(ids, KEY_CHUNK):
                marks = ",".join("?" * len(part))
                rows = c.execute(f"UPDATE outbox SET delivered_at = ?, last_error = NULL "
                                 f"WHERE delivered_at IS NULL AND id IN ({marks}) "
                                 "RETURNING destination, oid", (now_s, *part)).fetchall()
                done += len(rows)
                dispatch += [oid for dest, oid in rows
                             if dest == DISPATCH_DESTINATION and oid is not None]
            if dispatch:
                self._dispatched(c, dispatch, now_s)
        return done

    def _dispatched(self, c: sqlite3.Connection, oids: list[int], at_s: float) -> None:
        events, updates = [], []
        for part in chunks(oids, KEY_CHUNK):
            marks = ",".join("?" * len(part))
            for oid, stage in c.execute(f"SELECT id, stage FROM orders WHERE id IN ({marks})",
                                        part):
                events.append((oid, DISPATCHED, at_s, None, None))
                if moves(stage, DISPATCHED):
                    updates.append((oid,))
        insert(c, "INSERT INTO events (oid, stage, at, tracking_no, detail)", events)
        c.executemany(f"UPDATE orders SET stage = 'dispatched', stage_at = {at_s!r} "
                      "WHERE id = ?", updates)

    def failed(self, message_id: int, error: str, now: datetime) -> None:
        now_s = epoch(now, "failed now")
        with self._tx("failed") as c:
            row = c.execute("SELECT attempts FROM outbox WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise LedgerError(f"outbox row {message_id} does not exist")
            c.execute("UPDATE outbox SET last_error = ?, next_attempt_at = ? "
                      "WHERE id = ? AND delivered_at IS NULL",
                      (prepare.error_text(error), now_s + backoff_s(row[0]), message_id))

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
        with self._tx("failed_many") as c:
            attempts: dict[int, int] = {}
            ids = [int(i) for i, _ in (*failures, *dead)]
            for part in chunks(ids, KEY_CHUNK):
                marks = ",".join("?" * len(part))
                attempts.update(c.execute(f"SELECT id, attempts FROM outbox WHERE id IN ({marks}) "
                                          "AND delivered_at IS NULL", part).fetchall())
            retry = [(prepare.error_text(e), now_s + backoff_s(attempts[int(i)]), int(i))
                     for i, e in failures if int(i) in attempts]
            c.executemany("UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?",
                          retry)
            gone = [(prepare.error_text(e), now_s, int(i)) for i, e in dead
                    if int(i) in attempts]
            c.executemany("UPDATE outbox SET last_error = ?, dead_at = ? WHERE id = ?", gone)
            if srows or orows:
                found = self._found(c, keys)
                self._apply_stages(c, stage_plan(srows, found, set()))
                self._outbox(c, outbox_params(orows, found, set(), now_s))
        return len(retry) + len(gone)

    def resend_dead_letter(self, message_id: int, at: datetime, detail: dict[str, Any]) -> bool:
        at_s = epoch(at, "resend at")
        with self._tx("resend_dead_letter") as c:
            row = c.execute("UPDATE outbox SET dead_at = NULL, attempts = 0, last_error = NULL, "
                            "next_attempt_at = ? WHERE id = ? AND dead_at IS NOT NULL "
                            "AND delivered_at IS NULL RETURNING oid",
                            (at_s, int(message_id))).fetchone()
            if row is None:
                return False
            if row[0] is not None:
                stage = c.execute("SELECT stage FROM orders WHERE id = ?", (row[0],)).fetchone()
                insert(c, "INSERT INTO events (oid, stage, at, tracking_no, detail)",
                       [(row[0], RELEASED, at_s, NULL, prepare.blob(detail))])
                if stage is not None and moves(stage[0], RELEASED):
                    c.execute("UPDATE orders SET stage = ?, stage_at = ? WHERE id = ?",
                              (RELEASED, at_s, row[0]))
        return True

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self.conn.close()
