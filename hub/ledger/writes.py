"""What a write changes, worked out in Python from the rows already stored.

The SQL stores call these under their write lock (SQLite) or row locks
(PostgreSQL) and then apply the returned tuples with one statement per table.
``found`` maps an order key to ``[id, version_us, stage, stage_at, tracking_no]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.ledger.base import OrderKey
from hub.ledger.prepare import DecisionRow, OutboxRow, StageRow, dumps
from hub.ledger.stages import moves

Found = dict[OrderKey, list]
DECISION_STEPS = "validated,scored"  # passed through, at the same instant, before the last stage


@dataclass
class CommitPlan:
    stored: list[DecisionRow] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # oid stage at version_us rs steps detail
    updates: list[tuple] = field(default_factory=list)  # stage .. decided_us, oid
    dropped_keys: set[OrderKey] = field(default_factory=set)


def commit_plan(rows: Sequence[DecisionRow], found: Found, stored_ids: set[int],
                at: float) -> CommitPlan:
    """The decisions that were stored (their order id in ``stored_ids`` and version the
    stored one), their stage events (one row each, see hub.ledger.schema), and the order
    rows' new columns."""
    plan = CommitPlan()
    seen: set[int] = set()
    for d in rows:
        hit = found.get(d.key)
        if hit is None or hit[0] not in stored_ids or hit[1] != d.version_us or hit[0] in seen:
            continue
        oid = hit[0]
        seen.add(oid)
        plan.stored.append(d)
        plan.events.append((oid, d.stage, at, d.version_us, d.ruleset_version, DECISION_STEPS,
                            d.detail))
        if moves(hit[2], d.stage):
            hit[2], hit[3] = d.stage, at
        plan.updates.append((hit[2], hit[3], d.lane, d.score, d.packing_group, d.hold_reason,
                             d.hold_group, d.ruleset_version, d.version_us, oid))
    stored_keys = {d.key for d in plan.stored}
    plan.dropped_keys = {d.key for d in rows} - stored_keys
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


def stage_plan(rows: Sequence[StageRow], found: Found) -> StagePlan:
    """Events in the order given; each may move its order's current stage (see
    :func:`hub.ledger.stages.moves`). Events for unknown orders are quarantined."""
    plan = StagePlan()
    touched: dict[int, list] = {}
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
        plan.events.append((oid, r.stage, r.at, r.event.tracking_no, r.detail))
        if moves(hit[2], r.stage):
            hit[2], hit[3] = r.stage, r.at
        if r.event.tracking_no:
            hit[4] = r.event.tracking_no
        touched[oid] = hit
    plan.updates = [(h[2], h[3], h[4], oid) for oid, h in touched.items()]
    return plan
