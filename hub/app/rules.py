"""Rule sets: check one, dry-run it against recent orders, publish it, roll back. Written
once; the rule store actor (the watched file) and the API's rule console both call it.
The console publishes only drafts, approved by another person than their author
(``hub.app.drafts``); it also serves the block builder (``hub.app.builder``) and the
shadow run (``hub.app.shadow``).

A version is published through the ledger's single writer (``RuleVersionWrites``), then
put in force (``put_in_force(version, text)``: the running hub swaps it into its pools
between batches). A text that fails the check is refused with every problem (file, line,
reason), and the rules in force stay.

A rollback publishes the old text again under a new, higher version number (its
``version:`` line rewritten), so versions only grow and every decision still names
the exact text it was made under.

>>> renumber("version: 2\\nname: x\\n", 5, "rollback of v2")
'version: 5  # rollback of v2\\nname: x\\n'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.app.ports import (
    RecentOrders,
    RuleConsoleReads,
    RuleDraftWrites,
    RuleVersionReads,
    RuleVersionRecord,
    RuleVersionWrites,
    ShadowRunner,
)
from hub.app.records import RuleDraftRecord
from hub.clock import Clock
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.rules import Problem, RuleError, RuleSet, default_ruleset, load_ruleset
from hub.errors import OrderHubError

UPLOAD = "<upload>"
MAX_DRY_RUN = 5000
_VERSION_LINE = re.compile(r"^version[ \t]*:[^\n]*$", re.MULTILINE)
PutInForce = Callable[[int, str], Any]


class RuleRefused(OrderHubError):
    """A rule text that was not put in force; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NoSuchVersion(OrderHubError):
    """A rule-set version the ledger does not hold."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"no rule-set version {version}")


@dataclass(frozen=True, slots=True)
class RuleVersion:
    """``published_by`` is the approver; ``author`` who drafted it (the approver for a
    version published without a draft)."""

    version: int
    name: str
    published_by: str
    published_at: datetime | None
    in_force: bool
    text: str = field(default="", repr=False)
    author: str = ""
    draft: int | None = None
    drafted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    lane: str
    packing_group: str
    hold_reason: str | None


@dataclass(frozen=True, slots=True)
class DryRunExample:
    channel: str
    shop: str
    order_id: str
    before: Outcome
    after: Outcome
    rules_fired: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DryRun:
    version: int
    baseline_version: int
    orders: int
    changed: dict[str, int]  # lane, packing_group, hold, any
    examples: list[DryRunExample]


def renumber(text: str, version: int, comment: str = "") -> str:
    """``text`` with its top-level ``version:`` line set to ``version``."""
    line = f"version: {version}" + (f"  # {comment}" if comment else "")
    if _VERSION_LINE.search(text):
        return _VERSION_LINE.sub(line, text, count=1)
    return f"{line}\n{text}"


def _version_line(text: str) -> int:
    match = _VERSION_LINE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def parse(text: str, source: str = UPLOAD) -> RuleSet:
    """The rule set ``text`` holds; RuleRefused with every problem when it holds none."""
    try:
        return load_ruleset(text, source)
    except RuleError as exc:
        raise RuleRefused(exc.problems) from None


def problems(reads: RuleVersionReads, text: str, source: str = UPLOAD) -> list[Problem]:
    """Every reason ``text`` would be refused on publish (none: it may be published)."""
    try:
        ruleset = parse(text, source)
    except RuleRefused as exc:
        return exc.problems
    latest = reads.get_ruleset(None)
    if latest is not None and ruleset.version <= latest.version and text != latest.text:
        return [Problem(source, _version_line(text),
                        f"version {ruleset.version} is not newer than the version in force "
                        f"({latest.version}); raise `version`")]
    return []


def publish(reads: RuleVersionReads, writes: RuleVersionWrites, text: str, by: str,
            at: datetime, *, source: str = UPLOAD,
            put_in_force: PutInForce | None = None) -> int:
    """Check ``text``, publish it as its version and put it in force; returns its version.
    The text in force already is not published again (its version is returned)."""
    found = problems(reads, text, source)
    if found:
        raise RuleRefused(found)
    ruleset = parse(text, source)
    latest = reads.get_ruleset(None)
    if latest is not None and latest.text == text:
        return latest.version
    writes.publish_ruleset(ruleset.version, text, by, at)
    if put_in_force is not None:
        put_in_force(ruleset.version, text)
    return ruleset.version


def rollback(reads: RuleVersionReads, writes: RuleVersionWrites, version: int, by: str,
             at: datetime, *, put_in_force: PutInForce | None = None) -> int:
    """Publish version ``version``'s text again as the next version."""
    row = reads.get_ruleset(version)
    if row is None:
        raise NoSuchVersion(version)
    latest = reads.get_ruleset(None)
    following = (latest.version if latest else 0) + 1
    return publish(reads, writes, renumber(row.text, following, f"rollback to v{version} by {by}"),
                   by, at, put_in_force=put_in_force)


def decide(orders: Sequence[Order], ruleset: RuleSet) -> list[Decision]:
    """The domain's decisions for ``orders`` under ``ruleset``: no inventory snapshot (stock
    is not checked) and no orders before them but their own batch."""
    from hub.domain.routing import decide as route_batch

    return route_batch(list(orders), {}, [], ruleset)


def compare(orders: Sequence[Order], before: Sequence[Decision], after: Sequence[Decision],
            examples: int = 10) -> tuple[dict[str, int], list[DryRunExample]]:
    """How many orders change lane, packing group or hold; the first few as examples."""
    changed = {"lane": 0, "packing_group": 0, "hold": 0, "any": 0}
    shown: list[DryRunExample] = []
    for order, old, new in zip(orders, before, after, strict=True):
        diffs = {"lane": old.lane != new.lane,
                 "packing_group": old.packing_group != new.packing_group,
                 "hold": old.hold_reason != new.hold_reason}
        for name, differs in diffs.items():
            changed[name] += differs
        if any(diffs.values()):
            changed["any"] += 1
            if len(shown) < examples:
                shown.append(DryRunExample(
                    order.channel.value, order.shop, order.order_id,
                    Outcome(old.lane, old.packing_group, old.hold_reason),
                    Outcome(new.lane, new.packing_group, new.hold_reason), new.rules_fired))
    return changed, shown


def dry_run(orders: RecentOrders, running: RuleSet, text: str, n: int,
            examples: int = 10) -> DryRun:
    """Decide the last ``n`` orders under ``running`` and under ``text``, on the same
    inputs, and count what would change."""
    candidate = parse(text)
    recent = orders.recent_orders(max(1, min(n, MAX_DRY_RUN)))
    batch = sorted(recent, key=lambda o: (o.created_at, o.key))
    before = decide(batch, running) if batch else []
    after = decide(batch, candidate) if batch else []
    changed, shown = compare(batch, before, after, examples)
    return DryRun(candidate.version, running.version, len(batch), changed, shown)


class RuleConsole:
    """The rule console the API serves: versions and drafts read from ``reads`` (which
    also gives the recent orders for dry runs), drafts kept and published through
    ``writes`` (the ledger's single writer), put in force by ``put_in_force(version,
    text)``. It publishes only drafts, by another person than their author; ``shadow``
    runs a draft beside the rules in force (in-process when not given)."""

    def __init__(self, reads: RuleConsoleReads, writes: RuleDraftWrites,
                 put_in_force: PutInForce | None = None, clock: Clock | None = None, *,
                 shadow: ShadowRunner | None = None) -> None:
        self.reads, self.writes = reads, writes
        self.put_in_force, self.clock = put_in_force, clock or Clock()
        if shadow is None:
            from hub.app.shadow import LocalShadow

            shadow = LocalShadow(self.clock)
        self.shadow = shadow
        self._lock = threading.Lock()
        self._parsed: dict[int, RuleSet] = {}

    def _load(self, version: int, text: str) -> RuleSet:
        if version not in self._parsed:
            self._parsed = {version: load_ruleset(text, f"ruleset-v{version}"),
                            **dict(list(self._parsed.items())[-3:])}
        return self._parsed[version]

    def current(self) -> RuleSet:
        """The rule set in force (the latest published; the default before any)."""
        latest = self.reads.get_ruleset(None)
        if latest is None:
            return default_ruleset()
        return self._load(latest.version, latest.text)

    def _record(self, row: RuleVersionRecord, in_force: int | None) -> RuleVersion:
        name = self._load(row.version, row.text).name if row.text else ""
        return RuleVersion(row.version, name, row.published_by, row.published_at,
                           row.version == in_force, row.text,
                           getattr(row, "author", None) or row.published_by,
                           getattr(row, "draft", None), getattr(row, "drafted_at", None))

    def versions(self) -> list[RuleVersion]:
        rows = sorted(self.reads.list_rulesets(), key=lambda r: r.version, reverse=True)
        in_force = rows[0].version if rows else None
        return [self._record(row, in_force) for row in rows]

    def get(self, version: int) -> RuleVersion | None:
        row = self.reads.get_ruleset(version)
        if row is None:
            return None
        latest = self.reads.get_ruleset(None)
        return self._record(row, latest.version if latest else None)

    def check(self, text: str) -> list[Problem]:
        return problems(self.reads, text)

    def dry_run(self, text: str, n: int, examples: int = 10) -> DryRun:
        return dry_run(self.reads, self.current(), text, n, examples)

    def rollback(self, version: int, by: str) -> int:
        with self._lock:
            return rollback(self.reads, self.writes, version, by, self.clock.now(),
                            put_in_force=self.put_in_force)

    # -- drafts, two-person publishing (hub.app.drafts) -------------------------------------
    def create_draft(self, text: str, author: str, comment: str = "") -> Any:
        from hub.app import drafts

        at = self.clock.now()
        draft = drafts.create_draft(self.reads, self.writes, text, author, comment, at)
        return self.reads.get_rule_draft(draft) or RuleDraftRecord(draft, text, author,
                                                                   comment, at)

    def drafts(self, limit: int = 100) -> list[Any]:
        return list(self.reads.list_rule_drafts(limit))

    def draft(self, draft: int) -> Any:
        return self.reads.get_rule_draft(draft)

    def publish_draft(self, draft: int, by: str) -> Any:
        from hub.app import drafts

        with self._lock:
            return drafts.publish_draft(self.reads, self.reads, self.writes, draft, by,
                                        self.clock.now(), put_in_force=self.put_in_force)

    def diff(self, version: int) -> tuple[int | None, str] | None:
        from hub.app.drafts import version_diff

        return version_diff(self.reads, version)

    # -- shadow run (hub.app.shadow) --------------------------------------------------------
    def start_shadow(self, draft: int) -> tuple[int, datetime]:
        """Start draft ``draft`` in shadow: (its version, since when)."""
        from hub.app.drafts import NoSuchDraft

        row = self.draft(draft)
        if row is None:
            raise NoSuchDraft(draft)
        version = parse(row.text, f"draft-{draft}").version
        return version, self.shadow.start_shadow(draft, version, row.text)

    def stop_shadow(self) -> None:
        self.shadow.stop_shadow()

    def shadow_report(self, minutes: int) -> Any:
        return self.shadow.shadow_report(minutes)
