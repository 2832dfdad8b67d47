"""Three views of one order side by side: the marketplace's status (asked fresh, or None
when it was not asked this round), the WMS's stage (None: it holds no such order) and
the ledger's stage; what disagrees.

A cancelled order the WMS shipped is ``shipped_after_cancel`` (customer service must get
the parcel back), unless the hub already knew (its intercept came too late). Otherwise a
disagreement is a ``reconcile_mismatch``. Stages where the warehouse's view is expected
to differ raise nothing: the hub still deciding or holding, an order cancelled or
intercepted, a dispatch dead-lettered (the WMS never took it) and the anomalies
customer service already has.

>>> finding("paid", "packed", "dispatched").detail
'WMS says packed but the ledger still says dispatched'
>>> finding("cancelled", "shipped", "shipped").reason
<Reason.SHIPPED_AFTER_CANCEL: 'shipped_after_cancel'>
>>> finding("cancelled", "shipped", "intercept_too_late") is None
True
>>> finding(None, None, "dispatch_failed") is None, finding("paid", "picked", "picked") is None
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.domain.decision import Reason, Stage
from hub.domain.order import OrderStatus

WMS_ORDER = (Stage.DISPATCHED, Stage.PICKED, Stage.PACKED, Stage.SHIPPED)
GRACE_STAGES = frozenset({
    Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED, Stage.HELD, Stage.CANCELLED,
    Stage.RECONCILE_MISMATCH, Stage.INTERCEPTED, Stage.AMENDED, Stage.INTERCEPT_TOO_LATE,
    Stage.SHIPPED_AFTER_CANCEL})
KNOWN_TO_CS = (Stage.INTERCEPT_TOO_LATE, Stage.SHIPPED_AFTER_CANCEL)
SHIPPED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.FINISHED)


@dataclass(frozen=True, slots=True)
class Finding:
    reason: Reason  # RECONCILE_MISMATCH or SHIPPED_AFTER_CANCEL
    detail: str


def finding(marketplace: str | None, wms: str | None, ledger: str) -> Finding | None:
    """What disagrees between the three views of one order, or None."""
    if marketplace == OrderStatus.CANCELLED and wms == Stage.SHIPPED:
        if ledger in KNOWN_TO_CS:
            return None
        return Finding(Reason.SHIPPED_AFTER_CANCEL,
                       "marketplace says cancelled but the WMS shipped it")
    if marketplace in SHIPPED_STATUSES and wms is None:
        return Finding(Reason.RECONCILE_MISMATCH,
                       f"marketplace says {marketplace} but the WMS has no such order")
    if wms is None:
        if ledger in WMS_ORDER:
            return Finding(Reason.RECONCILE_MISMATCH,
                           f"ledger says {ledger} but the WMS has no such order")
        return None
    if ledger in GRACE_STAGES:
        return None
    ahead = WMS_ORDER.index(wms) if wms in WMS_ORDER else -1  # type: ignore[arg-type]
    behind = WMS_ORDER.index(ledger) if ledger in WMS_ORDER else -1  # type: ignore[arg-type]
    if ahead > behind:
        return Finding(Reason.RECONCILE_MISMATCH,
                       f"WMS says {wms} but the ledger still says {ledger}")
    return None


def mismatch(marketplace: str | None, wms: str | None, ledger: str) -> str | None:
    """The disagreement's text, or None (:func:`finding`'s detail)."""
    found = finding(marketplace, wms, ledger)
    return found.detail if found is not None else None
