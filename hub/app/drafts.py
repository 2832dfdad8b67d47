"""Two-person publishing: an author drafts a rule text, an approver who is not the author
publishes it. Rollback stays one action by an approver (``hub.app.rules.rollback``).

A draft is checked when it is made (a text the check refuses is not kept) and again when
it is published (another version may have been published meanwhile). Publishing stores
the version with its author and draft in one ledger transaction, then puts it in force.

>>> print(diff_text("a\\nb\\n", "a\\nc\\n", "v1", "v2"), end="")
--- v1
+++ v2
@@ -1,2 +1,2 @@
 a
-b
+c
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from hub.app.ports import RuleDraftReads, RuleDraftWrites, RuleVersionReads
from hub.app.rules import PutInForce, RuleRefused, parse, problems
from hub.errors import OrderHubError

MAX_COMMENT = 2000


class NoSuchDraft(OrderHubError):
    def __init__(self, draft: int) -> None:
        self.draft = draft
        super().__init__(f"no rule draft {draft}")


class DraftPublished(OrderHubError):
    """A draft that was published already (a draft is published once)."""

    def __init__(self, draft: int, version: int) -> None:
        self.draft, self.version = draft, version
        super().__init__(f"rule draft {draft} was published already, as version {version}")


class SamePerson(OrderHubError):
    """The approver is the draft's author: publishing needs a second person."""

    def __init__(self, draft: int, who: str) -> None:
        self.draft, self.who = draft, who
        super().__init__(f"{who} drafted rule draft {draft} and may not publish it too: "
                         "publishing needs a second person, an approver (role "
                         "rules_approver) who is not the draft's author")


@dataclass(frozen=True, slots=True)
class Published:
    version: int
    previous: int | None
    by: str
    author: str


def create_draft(reads: RuleVersionReads, writes: RuleDraftWrites, text: str, author: str,
                 comment: str, at: datetime) -> int:
    """Keep ``text`` as a draft by ``author``; RuleRefused when it could not be published."""
    found = problems(reads, text)
    if found:
        raise RuleRefused(found)
    return writes.add_rule_draft(text, author, comment[:MAX_COMMENT], at)


def publish_draft(reads: RuleVersionReads, drafts: RuleDraftReads, writes: RuleDraftWrites,
                  draft: int, by: str, at: datetime, *,
                  put_in_force: PutInForce | None = None) -> Published:
    """Publish draft ``draft`` as approver ``by`` and put it in force."""
    row = drafts.get_rule_draft(draft)
    if row is None:
        raise NoSuchDraft(draft)
    if row.published_version is not None:
        raise DraftPublished(draft, row.published_version)
    if by == row.author:
        raise SamePerson(draft, by)
    found = problems(reads, row.text, f"draft-{draft}")
    if found:
        raise RuleRefused(found)
    version = parse(row.text, f"draft-{draft}").version
    latest = reads.get_ruleset(None)
    writes.publish_ruleset(version, row.text, by, at, author=row.author, draft=draft)
    if put_in_force is not None:
        put_in_force(version, row.text)
    return Published(version, latest.version if latest else None, by, row.author)


def diff_text(before: str, after: str, before_name: str, after_name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        before_name, after_name))


def version_diff(reads: RuleVersionReads, version: int) -> tuple[int | None, str] | None:
    """(the version before ``version``, the unified diff from it); None when the ledger
    does not hold ``version``. The first version is diffed against an empty text."""
    row = reads.get_ruleset(version)
    if row is None:
        return None
    earlier = [r for r in reads.list_rulesets() if r.version < version]
    before = max(earlier, key=lambda r: r.version) if earlier else None
    name = f"v{before.version}" if before else "(nothing)"
    return (before.version if before else None,
            diff_text(before.text if before else "", row.text, name, f"v{version}"))
