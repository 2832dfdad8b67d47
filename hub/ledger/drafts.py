"""Rule-set versions and rule drafts in the SQL stores (SQLite, PostgreSQL, memory): one
dialect-neutral implementation (``?`` placeholders, ``ON CONFLICT``, ``RETURNING``), each
store giving only ``_write`` (one transaction).

A draft is an author's proposed rule text; publishing it stores the version with its
author and draft id and marks the draft published, in one transaction, so a draft is
published at most once.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

from hub.ledger import prepare
from hub.ledger.base import LedgerError, RuleDraftRecord, RulesetRecord
from hub.ledger.times import epoch, from_epoch

T = TypeVar("T")
MAX_COMMENT = 2000

_VERSION_SQL = ("SELECT r.version, r.text, r.published_by, r.published_at, r.author, r.draft, "
                "d.created_at FROM rulesets r LEFT JOIN rule_drafts d ON d.id = r.draft ")
_DRAFT_SQL = ("SELECT id, text, author, comment, created_at, published_version "
              "FROM rule_drafts ")


def _version(row: Sequence[Any]) -> RulesetRecord:
    return RulesetRecord(row[0], row[1], row[2], from_epoch(row[3]), row[4], row[5],
                         from_epoch(row[6]) if row[6] is not None else None)


def _draft(row: Sequence[Any]) -> RuleDraftRecord:
    return RuleDraftRecord(row[0], row[1], row[2], row[3], from_epoch(row[4]), row[5])


class RuleTables:
    """The ``rulesets`` and ``rule_drafts`` tables, for a store with ``_reading``,
    ``_all`` and ``_q`` (``hub.ledger.sqlbase.SqlLedger``) and a ``_write``."""

    @abstractmethod
    def _write(self, what: str, work: Callable[[Any], T]) -> T:
        """``work(connection)`` in one write transaction."""

    @abstractmethod
    def _reading(self, what: str) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _all(self, c: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def publish_ruleset(self, version: int, text: str, published_by: str, at: datetime, *,
                        author: str | None = None, draft: int | None = None) -> None:
        prepare.check_size(f"rule set version {version} text", text.encode("utf-8"))
        at_s = epoch(at, "publish at")

        def work(c: Any) -> None:
            inserted = self._all(
                c, "INSERT INTO rulesets (version, text, published_by, published_at, author, "
                   "draft) VALUES (?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (version) DO NOTHING RETURNING version",
                (version, text, published_by, at_s, author, draft))
            stored = self._all(c, "SELECT text FROM rulesets WHERE version = ?", (version,))
            if stored[0][0] != text:
                raise LedgerError(f"rule set version {version} is already published with "
                                  "different text; publish it as a new version")
            if draft is None or not inserted:
                return
            marked = self._all(c, "UPDATE rule_drafts SET published_version = ? WHERE id = ? "
                                  "AND published_version IS NULL RETURNING id",
                               (version, draft))
            if not marked:
                raise LedgerError(f"rule draft {draft} is unknown or published already")

        self._write("publish_ruleset", work)

    def list_rulesets(self) -> list[RulesetRecord]:
        with self._reading("list_rulesets") as c:
            rows = self._all(c, _VERSION_SQL + "ORDER BY r.version")
        return [_version(r) for r in rows]

    def get_ruleset(self, version: int | None = None) -> RulesetRecord | None:
        with self._reading("get_ruleset") as c:
            if version is None:
                rows = self._all(c, _VERSION_SQL + "ORDER BY r.version DESC LIMIT 1")
            else:
                rows = self._all(c, _VERSION_SQL + "WHERE r.version = ?", (version,))
        return _version(rows[0]) if rows else None

    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        prepare.check_size("rule draft text", text.encode("utf-8"))
        if len(comment) > MAX_COMMENT:
            raise LedgerError(f"a draft's comment is at most {MAX_COMMENT} characters, "
                              f"got {len(comment)}")
        at_s = epoch(at, "draft at")
        return self._write("add_rule_draft", lambda c: int(self._all(
            c, "INSERT INTO rule_drafts (text, author, comment, created_at) "
               "VALUES (?, ?, ?, ?) RETURNING id", (text, author, comment, at_s))[0][0]))

    def get_rule_draft(self, draft: int) -> RuleDraftRecord | None:
        with self._reading("get_rule_draft") as c:
            rows = self._all(c, _DRAFT_SQL + "WHERE id = ?", (draft,))
        return _draft(rows[0]) if rows else None

    def list_rule_drafts(self, limit: int = 100) -> list[RuleDraftRecord]:
        """Newest first."""
        with self._reading("list_rule_drafts") as c:
            rows = self._all(c, _DRAFT_SQL + "ORDER BY id DESC LIMIT ?", (limit,))
        return [_draft(r) for r in rows]
