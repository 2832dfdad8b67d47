"""The rule console behind the API: check a rule file, dry-run it against recent
orders, publish it, roll back. ``LedgerRuleAdmin`` keeps the versions in the ledger
and calls ``on_publish(version, text)`` after each publish, so the running hub swaps
the new rules into its pools between batches.

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
from typing import Any, Protocol

from hub.clock import Clock
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.rules import Problem, RuleError, RuleSet, default_ruleset, load_ruleset

UPLOAD = "<upload>"
MAX_DRY_RUN = 5000
_VERSION_LINE = re.compile(r"^version[ \t]*:[^\n]*$", re.MULTILINE)


class RuleRefused(Exception):
    """A rule text that was not put in force; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class RuleVersion:
    version: int
    name: str
    published_by: str
    published_at: datetime | None
    in_force: bool
    text: str = field(default="", repr=False)


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


class RuleAdmin(Protocol):
    def current(self) -> RuleSet: ...
    def versions(self) -> list[RuleVersion]: ...
    def get(self, version: int) -> RuleVersion | None: ...
    def check(self, text: str) -> list[Problem]: ...
    def dry_run(self, text: str, n: int, examples: int = 10) -> DryRun: ...
    def publish(self, text: str, by: str) -> int: ...
    def rollback(self, version: int, by: str) -> int: ...


def renumber(text: str, version: int, comment: str = "") -> str:
    """``text`` with its top-level ``version:`` line set to ``version``."""
    line = f"version: {version}" + (f"  # {comment}" if comment else "")
    if _VERSION_LINE.search(text):
        return _VERSION_LINE.sub(line, text, count=1)
    return f"{line}\n{text}"


def _version_line(text: str) -> int:
    match = _VERSION_LINE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


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


class LedgerRuleAdmin:
    """Rule versions kept in the ledger; ``on_publish(version, text)`` puts one in force."""

    def __init__(self, ledger: Any, on_publish: Callable[[int, str], Any] | None = None,
                 clock: Clock | None = None) -> None:
        self.ledger, self.on_publish, self.clock = ledger, on_publish, clock or Clock()
        self._lock = threading.Lock()
        self._parsed: dict[int, RuleSet] = {}

    def _load(self, version: int, text: str) -> RuleSet:
        if version not in self._parsed:
            self._parsed = {version: load_ruleset(text, f"ruleset-v{version}"),
                            **dict(list(self._parsed.items())[-3:])}
        return self._parsed[version]

    def current(self) -> RuleSet:
        latest = self.ledger.get_ruleset(None)
        if latest is None:
            return default_ruleset()
        return self._load(latest.version, latest.text)

    def _record(self, row: Any, in_force: int | None) -> RuleVersion:
        name = self._load(row.version, row.text).name if row.text else ""
        return RuleVersion(row.version, name, row.published_by, row.published_at,
                           row.version == in_force, row.text)

    def versions(self) -> list[RuleVersion]:
        rows = sorted(self.ledger.list_rulesets(), key=lambda r: r.version, reverse=True)
        in_force = rows[0].version if rows else None
        return [self._record(row, in_force) for row in rows]

    def get(self, version: int) -> RuleVersion | None:
        row = self.ledger.get_ruleset(version)
        if row is None:
            return None
        latest = self.ledger.get_ruleset(None)
        return self._record(row, latest.version if latest else None)

    def _parse(self, text: str) -> RuleSet:
        try:
            return load_ruleset(text, UPLOAD)
        except RuleError as exc:
            raise RuleRefused(exc.problems) from None

    def check(self, text: str) -> list[Problem]:
        """Every reason the text would be refused on publish (none: it may be published)."""
        try:
            ruleset = self._parse(text)
        except RuleRefused as exc:
            return exc.problems
        latest = self.ledger.get_ruleset(None)
        if latest is not None and ruleset.version <= latest.version and text != latest.text:
            return [Problem(UPLOAD, _version_line(text),
                            f"version {ruleset.version} is not newer than the version in force "
                            f"({latest.version}); raise `version`")]
        return []

    def dry_run(self, text: str, n: int, examples: int = 10) -> DryRun:
        """Decide the last ``n`` orders under the running rules and under ``text``, on the
        same inputs, and count what would change."""
        candidate = self._parse(text)
        running = self.current()
        recent = self.ledger.recent_orders(max(1, min(n, MAX_DRY_RUN)))
        orders = sorted(recent, key=lambda o: (o.created_at, o.key))
        before = decide(orders, running) if orders else []
        after = decide(orders, candidate) if orders else []
        changed, shown = compare(orders, before, after, examples)
        return DryRun(candidate.version, running.version, len(orders), changed, shown)

    def publish(self, text: str, by: str) -> int:
        with self._lock:
            problems = self.check(text)
            if problems:
                raise RuleRefused(problems)
            ruleset = self._parse(text)
            latest = self.ledger.get_ruleset(None)
            if latest is not None and latest.text == text:
                return latest.version
            self.ledger.publish_ruleset(ruleset.version, text, by, self.clock.now())
            self._parsed[ruleset.version] = ruleset
        if self.on_publish is not None:
            self.on_publish(ruleset.version, text)
        return ruleset.version

    def rollback(self, version: int, by: str) -> int:
        """Publish version ``version``'s text again as the next version."""
        row = self.ledger.get_ruleset(version)
        if row is None:
            raise KeyError(version)
        latest = self.ledger.get_ruleset(None)
        following = (latest.version if latest else 0) + 1
        return self.publish(renumber(row.text, following, f"rollback to v{version} by {by}"), by)
