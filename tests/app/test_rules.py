"""Rule sets (hub.app.rules) over fakes of the rule-version ports: check, dry-run,
publish and roll back, and the one RuleRefused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.app.rules import (
    NoSuchVersion,
    RuleConsole,
    RuleRefused,
    dry_run,
    parse,
    problems,
    publish,
    renumber,
    rollback,
)
from hub.clock import ManualClock
from hub.domain.rules import default_ruleset
from hub.errors import OrderHubError
from tests.factories import T0, order
from tests.fakes_operator import FakeRuleVersions

AT = T0 + timedelta(hours=1)
DEFAULT = default_ruleset().text
V2 = renumber(DEFAULT, 2)


def published(text: str = DEFAULT) -> FakeRuleVersions:
    versions = FakeRuleVersions()
    versions.publish_ruleset(parse(text).version, text, "default", T0)
    return versions


def test_a_broken_file_is_refused_with_each_problem_and_its_line():
    with pytest.raises(RuleRefused) as caught:
        parse("version: 1\nname: x\nrules: 7\n", "my.yaml")
    refused = caught.value
    assert isinstance(refused, OrderHubError)
    assert refused.problems and all(p.file == "my.yaml" and p.line >= 1
                                    for p in refused.problems)
    assert str(refused).startswith("my.yaml:")


def test_a_version_not_newer_than_the_one_in_force_is_a_problem_on_its_line():
    versions = published(V2)
    older = "# a comment\n" + DEFAULT  # version 1, on line 6 now
    [problem] = problems(versions, older, "file.yaml")
    line = older.splitlines().index("version: 1") + 1
    assert (problem.file, problem.line) == ("file.yaml", line)
    assert "not newer than the version in force (2)" in problem.reason
    assert problems(versions, V2) == []  # the text in force itself may be published again


def test_publish_stores_through_the_writer_then_puts_in_force():
    versions = published()
    assert publish(versions, versions, V2, "alice", AT, put_in_force=versions.put_in_force) == 2
    assert (versions.records[2].published_by, versions.records[2].published_at) == ("alice", AT)
    assert versions.put == [(2, V2)]
    assert publish(versions, versions, V2, "bob", AT, put_in_force=versions.put_in_force) == 2
    assert versions.put == [(2, V2)] and versions.records[2].published_by == "alice"


def test_a_refused_publish_stores_nothing_and_changes_nothing_in_force():
    versions = published(V2)
    with pytest.raises(RuleRefused, match="not newer"):
        publish(versions, versions, DEFAULT, "alice", AT, put_in_force=versions.put_in_force)
    assert sorted(versions.records) == [2] and versions.put == []


def test_rollback_publishes_the_old_text_as_the_next_version():
    versions = published()
    publish(versions, versions, V2, "alice", AT)
    assert rollback(versions, versions, 1, "bob", AT, put_in_force=versions.put_in_force) == 3
    text = versions.records[3].text
    assert "version: 3  # rollback to v1 by bob" in text.splitlines()
    assert parse(text).version == 3 and versions.put == [(3, text)]
    with pytest.raises(NoSuchVersion, match="no rule-set version 9"):
        rollback(versions, versions, 9, "bob", AT)


def test_a_dry_run_of_the_same_rules_changes_nothing_over_the_recent_orders():
    versions = published()
    versions.orders = [order(n) for n in range(1, 8)]
    result = dry_run(versions, default_ruleset(), V2, 5)
    assert (result.version, result.baseline_version, result.orders) == (2, 1, 5)
    assert result.changed == {"lane": 0, "packing_group": 0, "hold": 0, "any": 0}
    with pytest.raises(RuleRefused):
        dry_run(versions, default_ruleset(), "version: x\n", 5)


def test_the_console_reads_versions_and_publishes_through_its_writer():
    reads, writes = published(), FakeRuleVersions()
    writes.drafts = reads.drafts  # one database: what the writer keeps, the reader reads
    console = RuleConsole(reads, writes, put_in_force=reads.put_in_force,
                          clock=ManualClock(AT))
    assert console.current().version == 1
    assert [(v.version, v.in_force, v.name) for v in console.versions()] == [
        (1, True, "default")]
    draft = console.create_draft(V2, "dora", "faster jd").id
    assert console.publish_draft(draft, "carol").version == 2
    assert list(writes.records) == [2] and 2 not in reads.records  # the writer, not the reader
    assert writes.records[2].published_at == AT and reads.put == [(2, V2)]
    assert console.get(5) is None
    assert RuleConsole(FakeRuleVersions(), writes).current().version == 1  # the default
