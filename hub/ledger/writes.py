"""What a write changes, worked out in Python from the rows already stored.

The SQL stores call these under their write lock (SQLite) or row locks
(PostgreSQL) and then apply the returned tuples with one statement per table.
``found`` maps an order key to ``[id, version_us, stage, stage_at, tracking_no,
decided_us]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.domain.decision import Stage
from hub.domain.lifecycle import WAREHOUSE, moves
from hub.ledger.base import OrderKey
from hub.ledger.prepare import DecisionRow, OperatorRows, OutboxRow, StageRow, dumps

Found = dict[OrderKey, list]
_HELD = Stage.HELD.value
DECISION_STEPS = "validated,scored"  # passed through, at the same instant, before the last stage


@dataclass
class CommitPlan:
    stored: int = 0
    events: list[tuple] = field(default_factory=list)  # oid stage at version rs steps detail body
    updates: list[tuple] = field(default_factory=list)  # stage .. decided_us, oid
    dropped_keys: set[OrderKey] = field(default_factory=set)
    decided: dict[OrderKey, DecisionRow] = field(default_factory=dict)  # the stored ones
    redecided: list[OrderKey] = field(default_factory=list)  # stored, an older version decided


def commit_plan(rows: Sequence[DecisionRow], found: Found, at: float,
                null: Any = None) -> CommitPlan:
    """The decisions to store: those about the stored version of their order that is not
    decided yet (``decided_us``), the first of several for one order; or that decide a
    held version again (``DecisionRow.redecides``) while it is still held. Returns their stage
    events (one row each, holding the decision's body, see hub.ledger.schema), the order
    rows' new columns (``null`` for a missing detail, hold reason or group), and the keys
    of the decisions not stored."""
    plan = CommitPlan()
    events, updates = plan.events, plan.updates
    stored = plan.decided
    for d in rows:
        hit = found.get(d.key)
        version = d.version_us
        if hit is None or hit[1] != version or (
                hit[5] == version and not (d.redecides and hit[2] == _HELD)):
            continue
        if hit[5] is not None and hit[5] == hit[5]:  # NaN: SQLite's NULL in a batch
            plan.redecided.append(d.key)
        hit[5] = version  # a second decision for this version in the batch is not stored
        oid = hit[0]
        stored[d.key] = d
        detail = d.detail
        events.append((oid, d.stage, at, version, d.ruleset_version, DECISION_STEPS,
                       null if detail is None else detail, d.body))
        if moves(hit[2], d.stage):
            hit[2], hit[3] = d.stage, at
        reason, group = d.hold_reason, d.hold_group
        updates.append((hit[2], hit[3], d.lane, d.score, d.packing_group,
                        null if reason is None else reason, null if group is None else group,
                        d.ruleset_version, version, oid))
    plan.stored = len(events)
    if len(stored) < len(rows):
        plan.dropped_keys = {d.key for d in rows} - stored.keys()
    return plan


def outbox_params(rows: Sequence[OutboxRow], found: Found, dropped: set[OrderKey],
                  at: float) -> list[tuple]:
    """(key, destination, oid, payload, created_at, next_attempt_at) of the rows to insert:
    every row except those tied to a decision that was not stored."""
    out = []
    for r in rows:
        if r.order_ref is not None and r.order_ref in dropped:
            continue
        hit = found.get(r.order_ref) if r.order_ref is not None else None
        out.append((r.key, r.destination, hit[0] if hit else None, r.payload, at, at))
    return out


@dataclass
class StagePlan:
    events: list[tuple] = field(default_factory=list)  # oid, stage, at, tracking_no, detail
    updates: list[tuple] = field(default_factory=list)  # stage, stage_at, tracking_no, oid
    quarantine: list[tuple] = field(default_factory=list)  # channel, shop, raw, error, at


def stage_plan(rows: Sequence[StageRow], found: Found,
               held: set[tuple[int, str, str]] | None = None) -> StagePlan:
    """Events in the order given; each may move its order's current stage (see
    :func:`hub.domain.lifecycle.moves`). Events for unknown orders are quarantined. A
    warehouse stage already stored for its order with the same tracking number (in
    ``held``, or earlier in ``rows``) is left out, as the WMS callback and its status feed
    report the same statuses, unless it answers a reconcile mismatch."""
    plan = StagePlan()
    touched: dict[int, list] = {}
    held = set() if held is None else held
    for r in rows:
        hit = found.get(r.key)
        if hit is None:
            e = r.event
            raw = dumps({"key": list(r.key), "stage": r.stage, "at": e.at.isoformat(),
                         "tracking_no": e.tracking_no, "detail": e.detail})
            plan.quarantine.append((r.key[0], r.key[1], raw,
                                    f"stage event {r.stage!r} for an order the ledger does "
                                    f"not hold: {':'.join(r.key)}", r.at))
            continue
        oid = hit[0]
        if r.stage in WAREHOUSE:
            mark = (oid, r.stage, r.event.tracking_no or "")
            if mark in held and hit[2] != Stage.RECONCILE_MISMATCH:  # a repeat then confirms
                continue
            held.add(mark)
        plan.events.append((oid, r.stage, r.at, r.event.tracking_no, r.detail))
        if moves(hit[2], r.stage):
            hit[2], hit[3] = r.stage, r.at
        if r.event.tracking_no:
            hit[4] = r.event.tracking_no
        touched[oid] = hit
    plan.updates = [(h[2], h[3], h[4], oid) for oid, h in touched.items()]
    return plan


@dataclass
class OperatorPlan:
    order: tuple | None = None  # version_us, status, stage, stage_at, oid of an amended order
    body: tuple | None = None  # oid, body
    received: tuple | None = None  # oid, "received", at, version_us
    decided: CommitPlan = field(default_factory=CommitPlan)
    outbox: list[tuple] = field(default_factory=list)
    staged: StagePlan = field(default_factory=StagePlan)


def operator_plan(rows: OperatorRows, found: Found, at: float,
                  null: Any = None) -> OperatorPlan | None:
    """What one operator action writes, as the ingest, decision and stage writes would,
    in that order; None (write nothing) when the order is unknown, is no longer in one of
    ``rows.only_from`` (any stage when empty), or holds a version as new as the amended one."""
    hit = found.get(rows.key)
    if hit is None or (rows.only_from and hit[2] not in rows.only_from):
        return None
    plan = OperatorPlan()
    amended = rows.amended
    if amended is not None:
        if amended.version_us <= hit[1]:
            return None
        oid = hit[0]
        hit[1] = amended.version_us
        if moves(hit[2], Stage.RECEIVED):
            hit[2], hit[3] = Stage.RECEIVED.value, at
        plan.order = (amended.version_us, amended.status, hit[2], hit[3], oid)
        plan.body = (oid, amended.body)
        plan.received = (oid, Stage.RECEIVED.value, at, amended.version_us)
    plan.decided = commit_plan(rows.decided, found, at, null)
    plan.outbox = outbox_params(rows.outbox, found, plan.decided.dropped_keys, at)
    plan.staged = stage_plan(rows.event, found, set())
    return plan
