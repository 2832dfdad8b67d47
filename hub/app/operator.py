"""What an operator does about a held order: release it (with a note), cancel it, or fix
its address and check it again. Each action is one ledger transaction through the single
writer, recorded as a stage event naming who did it and why.

Fixing the address stores a new version of the order (its ``modified_at`` moved to now)
and decides it again with the rules in force: clean -> released and sent to the WMS;
otherwise it stays held with the new reasons.

>>> from hub.domain.decision import Stage
>>> Stage.SHIPPED in BEFORE_WAREHOUSE, Stage.HELD in HOLDS
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from hub.app.ports import OperatorReads, OperatorWrites, OrderKey, OrderSnapshot
from hub.domain.decision import Decision, Stage
from hub.domain.order import Order, Receiver
from hub.domain.outbox import WMS, OutboxMessage, dispatch_payload, outbox_for
from hub.domain.routing import decide
from hub.domain.rules import RuleSet
from hub.errors import OrderHubError

HOLDS = frozenset({Stage.HELD, Stage.RECONCILE_MISMATCH})
BEFORE_WAREHOUSE = frozenset({
    Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED, Stage.ROUTED, Stage.HELD, Stage.RELEASED,
    Stage.AUTO_REMEDIED, Stage.RECONCILE_MISMATCH})
RECENT_FOR_DUPLICATES = 2000


class OperatorError(OrderHubError):
    """An operator action that was refused; nothing was stored."""


class OrderNotFound(OperatorError):
    """The ledger holds no such order."""


class NotInStage(OperatorError):
    """The order is not (or no longer) in a stage where this action applies."""


@dataclass(frozen=True, slots=True)
class AddressFix:
    """A corrected address; a blank ``phone`` or ``name`` keeps the order's."""

    province: str
    city: str
    district: str = ""
    street: str = ""
    detail: str = ""
    phone: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    key: OrderKey
    action: str  # release | cancel | address
    stage: Stage  # the order's stage afterwards
    by: str
    at: datetime
    released: bool
    reasons: list[str]  # what still holds it (address re-check)


def _ident(key: OrderKey) -> str:
    return "/".join(key)


def _snapshot(reads: OperatorReads, key: OrderKey) -> OrderSnapshot:
    view = reads.get_order(key)
    if view is None:
        raise OrderNotFound(f"no order {_ident(key)}")
    return view


def _not_held(key: OrderKey, stage: str) -> NotInStage:
    return NotInStage(f"order {key[2]} is {stage}, not held")


def _changed(reads: OperatorReads, key: OrderKey) -> OperatorError:
    """Why the writer stored nothing: the order changed between our read and its write."""
    view = reads.get_order(key)
    if view is None:
        return OrderNotFound(f"no order {_ident(key)}")
    return NotInStage(f"order {key[2]} is {view.stage}: it changed meanwhile; look again")


def dispatch_owed(order: Order, decision: Decision | None) -> list[OutboxMessage]:
    """The WMS row a released order is owed (the same idempotency key the router uses)."""
    if decision is None or order.status.value != "paid":
        return []
    ident = f"{order.channel.value}:{order.shop}:{order.order_id}"
    return [OutboxMessage(destination=WMS, key=f"wms:{ident}", order_key=order.key,
                          payload=dispatch_payload(order, decision))]


def release(reads: OperatorReads, writes: OperatorWrites, key: OrderKey, *, by: str,
            at: datetime, note: str = "") -> ActionResult:
    """Release a held order: it goes to the WMS as decided, the note is kept."""
    view = _snapshot(reads, key)
    if view.stage not in HOLDS:
        raise _not_held(key, view.stage)
    detail = {"by": by, "note": note, "action": "release"}
    if not writes.apply_operator_action(key, Stage.RELEASED, at, detail, only_from=tuple(HOLDS),
                                        outbox=dispatch_owed(view.order, view.decision)):
        raise _changed(reads, key)
    return ActionResult(key, "release", Stage.RELEASED, by, at, True, [])


def cancel(reads: OperatorReads, writes: OperatorWrites, key: OrderKey, *, by: str,
           at: datetime, note: str = "") -> ActionResult:
    """Cancel an order that has not reached the warehouse yet."""
    view = _snapshot(reads, key)
    if view.stage not in BEFORE_WAREHOUSE:
        raise NotInStage(f"order {key[2]} is {view.stage}: the warehouse has it; cancel it in "
                         "the WMS")
    detail = {"by": by, "note": note, "action": "cancel"}
    if not writes.apply_operator_action(key, Stage.CANCELLED, at, detail,
                                        only_from=tuple(BEFORE_WAREHOUSE)):
        raise _changed(reads, key)
    return ActionResult(key, "cancel", Stage.CANCELLED, by, at, False, [])


def with_address(order: Order, fix: AddressFix, at: datetime) -> Order:
    """A new version of ``order`` with the fixed address, modified at ``at`` (or just after
    the version it replaces)."""
    old = order.receiver
    receiver = Receiver(name=fix.name or old.name, phone=fix.phone or old.phone,
                        province=fix.province, city=fix.city, district=fix.district,
                        street=fix.street, detail=fix.detail)
    modified = max(at, order.modified_at + timedelta(milliseconds=1))
    return Order.model_validate({**order.model_dump(), "receiver": receiver.model_dump(),
                                 "modified_at": modified})


def fix_address(reads: OperatorReads, writes: OperatorWrites, key: OrderKey, fix: AddressFix,
                rules: RuleSet, *, by: str, at: datetime, note: str = "") -> ActionResult:
    """Correct a held order's address and decide it again with ``rules`` (the rules in
    force): the new version, its decision, what it owes and the operator's event are
    stored in one transaction."""
    view = _snapshot(reads, key)
    if view.stage not in HOLDS:
        raise _not_held(key, view.stage)
    order = with_address(view.order, fix, at)
    recent = [o for o in reads.recent_orders(RECENT_FOR_DUPLICATES) if o.key != order.key]
    decision = decide([order], {}, recent, rules)[0]
    before = view.decision.extra.get("skus") if view.decision is not None else None
    if before is not None:  # the lines did not change: the merchant SKUs they expand to hold
        decision = msgspec.structs.replace(decision, extra={**decision.extra, "skus": before})
    reasons = list(dict.fromkeys([decision.hold_reason, *(a.code for a in decision.anomalies)])
                   ) if decision.hold_reason else []
    stage = Stage.HELD if decision.held else Stage.RELEASED
    detail = {"by": by, "note": note, "action": "edit_address", "reasons": reasons}
    if not writes.apply_operator_action(key, stage, at, detail, only_from=tuple(HOLDS),
                                        outbox=outbox_for([order], [decision]),
                                        amended=order, decision=decision):
        raise _changed(reads, key)
    return ActionResult(key, "address", stage, by, at, not decision.held, reasons)
