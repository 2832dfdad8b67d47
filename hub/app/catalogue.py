"""Keeping the merchant's catalogue current, and deciding again what it now maps.

The router (a shell) asks :func:`refresh` now and then: the ERP answers what changed
since the version in force, the change is merged and checked whole, and a catalogue
that cannot stand is refused with its entries named while the one in force stays. When
a new version is in force, :func:`release_mapped` asks the decision store for the
orders held as ``unmapped_sku`` and sends those the new catalogue maps to be decided
again, each on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hub.app.ports import CatalogueSource, DecisionStore, RedecisionQueue
from hub.domain.catalogue import Catalogue, CatalogueRefused, catalogue, expand
from hub.domain.decision import Reason

log = logging.getLogger("orderhub.catalogue")
UNMAPPED = Reason.UNMAPPED_SKU.value


@dataclass(frozen=True, slots=True)
class Refreshed:
    """``catalogue``: the one in force after the refresh; ``changed``: a new version came
    in force; ``refused``: the ERP's version ``version`` was refused, these entries named."""

    catalogue: Catalogue | None
    changed: bool = False
    version: int | None = None
    refused: tuple[str, ...] = ()


async def refresh(current: Catalogue | None, source: CatalogueSource,
                  refused_version: int | None = None) -> Refreshed:
    """The catalogue in force after asking ``source`` what changed since ``current``.
    ``refused_version``: a version refused before, not checked again. An ERP without a
    catalogue, or with an empty one, leaves lines read as they are (no catalogue)."""
    since = current.version if current is not None else 0
    change = await source.catalogue(since)
    if change is None:
        return Refreshed(current)
    version = int(change.get("version", 0))
    if version == refused_version or (current is not None and version == current.version):
        return Refreshed(current, version=version)
    if current is None and not change.get("skus") and not change.get("listings"):
        return Refreshed(None, version=version)
    try:
        made = current.merged(change) if current is not None else catalogue(
            change.get("skus", ()), change.get("listings", ()), version)
    except CatalogueRefused as refused:
        log.error("catalogue version %d refused, version %s stays in force: %s", version,
                  since if current is not None else "(none)", refused)
        return Refreshed(current, version=version, refused=tuple(refused.problems))
    log.info("catalogue version %d in force: %d merchant SKUs, %d listings", version,
             len(made.names), len(made))
    return Refreshed(made, changed=True, version=version)


async def release_mapped(store: DecisionStore, queue: RedecisionQueue, cat: Catalogue,
                         limit: int = 5000) -> int:
    """Send the orders held as ``unmapped_sku`` that ``cat`` maps now to be decided again;
    how many were queued. Those it still does not map stay held as they are."""
    held = await store.held_orders(UNMAPPED, limit)
    mapped = [o for o in held if not expand(o, cat)[1]]
    if not mapped:
        return 0
    queued = await queue.redecide(mapped, UNMAPPED)
    log.info("catalogue version %d maps %d of %d orders held as unmapped: decided again",
             cat.version, len(mapped), len(held))
    return queued
