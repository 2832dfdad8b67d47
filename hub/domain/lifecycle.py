"""How an order's current stage moves.

Events are append-only; the order row keeps one *current* stage. Before
fulfilment (received .. routed / held / released) any event moves it, so a new
version of an order goes back to ``received`` until it is decided again. Once
the WMS has it (dispatched, picked, packed, shipped) it only moves forward; a
cancellation or an interception sticks (both are final); a reconcile mismatch
always shows and is cleared by the next event. An amendment is recorded but never
becomes the current stage (the order is where the warehouse has it). An intercept
that came too late always shows and stays until the order is cancelled or
intercepted after all: customer service has work to do (courier interception,
return to sender), whatever the warehouse reports meanwhile; so does a shipment after
a cancellation that the reconciler found. A dispatch the WMS refused at every try
(``dispatch_failed``, dead-lettered) is still the hub's to send: any event moves it
(a resend is ``released``, its delivery ``dispatched``, a new version ``received``).

>>> moves(Stage.ROUTED, Stage.RECEIVED), moves("packed", "picked"), moves("shipped", "cancelled")
(True, False, True)
>>> moves(Stage.PICKED, Stage.AMENDED), moves(Stage.INTERCEPT_TOO_LATE, Stage.SHIPPED)
(False, False)
>>> moves(Stage.ROUTED, Stage.DISPATCH_FAILED), moves(Stage.DISPATCH_FAILED, Stage.DISPATCHED)
(True, True)
>>> moves(Stage.SHIPPED, Stage.SHIPPED_AFTER_CANCEL), moves(Stage.SHIPPED_AFTER_CANCEL, "shipped")
(True, False)
>>> decision_stage(hold_reason=None, remedies=("delivery->express",))
<Stage.AUTO_REMEDIED: 'auto_remedied'>
>>> decision_stage(hold_reason="invalid_phone", remedies=()) == "held"
True
"""

from __future__ import annotations

from hub.domain.decision import Stage

STAGES = frozenset(Stage)
PHASE: dict[str, int] = {  # a Stage is its str value, so either keys it
    Stage.RECEIVED: 0, Stage.VALIDATED: 1, Stage.SCORED: 1,
    Stage.ROUTED: 2, Stage.HELD: 2, Stage.AUTO_REMEDIED: 2, Stage.RELEASED: 2,
    Stage.DISPATCH_FAILED: 2,
    Stage.DISPATCHED: 3, Stage.AMENDED: 3, Stage.PICKED: 4, Stage.PACKED: 5, Stage.SHIPPED: 6,
    Stage.CANCELLED: 7, Stage.INTERCEPTED: 7,
}
DECIDING = 2  # up to this phase any event moves the current stage (the hub still decides)
FINAL = (Stage.CANCELLED, Stage.INTERCEPTED)
STICKY = (Stage.INTERCEPT_TOO_LATE, Stage.SHIPPED_AFTER_CANCEL)  # customer service's to act on
ALWAYS = (*FINAL, Stage.RECONCILE_MISMATCH, *STICKY)
NEVER_CURRENT = (Stage.AMENDED,)  # recorded on the timeline only
WAREHOUSE = (Stage.PICKED, Stage.PACKED, Stage.SHIPPED)  # reported by the WMS; each stored once


def moves(current: str, new: str) -> bool:
    """Whether an event of stage ``new`` becomes the order's current stage."""
    if new in NEVER_CURRENT:
        return False
    if current in STICKY:
        return new in FINAL
    if new in ALWAYS or current == Stage.RECONCILE_MISMATCH:
        return True
    now, then = PHASE[new], PHASE[current]
    return then <= DECIDING or now >= then


def decision_stage(hold_reason: str | None, remedies: tuple[str, ...]) -> Stage:
    """The stage a decision puts its order in: held, auto-remedied or routed."""
    if hold_reason:
        return Stage.HELD
    return Stage.AUTO_REMEDIED if remedies else Stage.ROUTED
