"""The block builder's use cases: open a rule text as blocks, save blocks as a rule text
(checked, with every problem placed on its block, and the conflict warnings), the
builder's schema (``hub.domain.rules.palette``, suggestions from recent orders), and the
warnings of any text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.app.ports import RecentOrders, RuleVersionReads
from hub.app.rules import UPLOAD, RuleRefused, parse, problems
from hub.domain.rules import Problem
from hub.domain.rules.blocks import open_blocks, save_blocks
from hub.domain.rules.conflicts import Warning_, conflicts
from hub.domain.rules.palette import palette

SUGGEST_FROM = 1000  # recent orders the schema's suggestions come from


@dataclass(frozen=True, slots=True)
class Placed:
    """A problem of a saved document, with the rule block it is in (None: settings)."""

    problem: Problem
    rule_id: str | None = None
    block: int | None = None


@dataclass(frozen=True, slots=True)
class SavedBlocks:
    text: str
    problems: list[Placed]
    warnings: list[Warning_]


def warnings(text: str, source: str = UPLOAD) -> list[Warning_]:
    """The conflict warnings of a text the check accepts (none for a refused one)."""
    try:
        return conflicts(parse(text, source))
    except RuleRefused:
        return []


def open_text(reads: RuleVersionReads, text: str) -> tuple[dict[str, Any], int]:
    """(the block document of ``text``, the next version number to publish);
    RuleRefused when the check refuses the text."""
    parse(text)  # RuleRefused with every problem
    latest = reads.get_ruleset(None)
    return open_blocks(text, UPLOAD), (latest.version if latest else 0) + 1


def save_document(reads: RuleVersionReads, document: Any) -> SavedBlocks:
    """The rule text of ``document`` with its problems (as publishing would find them)
    and warnings; ``BlockError`` when the document is malformed."""
    saved = save_blocks(document)
    rules = document.get("rules") or []
    placed = []
    for p in problems(reads, saved.text):
        block = saved.block_of(p.line)
        rule_id = rules[block].get("id") if block is not None else None
        placed.append(Placed(p, rule_id if isinstance(rule_id, str) else None, block))
    return SavedBlocks(saved.text, placed, [] if placed else warnings(saved.text))


def schema(orders: RecentOrders, packing_groups: list[str] | None = None) -> dict[str, Any]:
    """The builder's schema with suggestions from the last orders stored."""
    return palette(orders.recent_orders(SUGGEST_FROM), packing_groups or [])
