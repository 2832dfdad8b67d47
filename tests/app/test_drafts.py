"""Two-person publishing (hub.app.drafts) over fakes of the rule-version and draft ports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.app.drafts import (
    DraftPublished,
    NoSuchDraft,
    SamePerson,
    create_draft,
    publish_draft,
    version_diff,
)
from hub.app.rules import RuleRefused, renumber
from tests.app.test_rules import DEFAULT, V2, published
from tests.factories import T0

AT = T0 + timedelta(hours=2)


def test_a_draft_is_published_only_by_another_person_and_only_once():
    versions = published()
    draft = create_draft(versions, versions, V2, "anna", "why", AT)
    with pytest.raises(SamePerson, match="second person"):
        publish_draft(versions, versions, versions, draft, "anna", AT,
                      put_in_force=versions.put_in_force)
    assert versions.put == [] and versions.get_ruleset(None).version == 1
    done = publish_draft(versions, versions, versions, draft, "paul", AT,
                         put_in_force=versions.put_in_force)
    assert (done.version, done.previous, done.by, done.author) == (2, 1, "paul", "anna")
    assert versions.put == [(2, V2)]
    stored = versions.get_ruleset(2)
    assert (stored.published_by, stored.author, stored.draft) == ("paul", "anna", draft)
    with pytest.raises(DraftPublished):
        publish_draft(versions, versions, versions, draft, "paul", AT)
    with pytest.raises(NoSuchDraft):
        publish_draft(versions, versions, versions, 99, "paul", AT)


def test_a_text_that_could_not_be_published_is_not_drafted_nor_published_later():
    versions = published()
    with pytest.raises(RuleRefused):
        create_draft(versions, versions, DEFAULT.replace("version: 1", "version: 0"), "anna",
                     "", AT)
    first = create_draft(versions, versions, V2, "anna", "", AT)
    second = create_draft(versions, versions, renumber(DEFAULT, 2, "other"), "anna", "", AT)
    publish_draft(versions, versions, versions, first, "paul", AT)
    with pytest.raises(RuleRefused, match="not newer"):
        publish_draft(versions, versions, versions, second, "paul", AT)
    assert versions.list_rule_drafts()[0].published_version is None


def test_a_version_is_diffed_against_the_one_before():
    versions = published()
    publish_draft(versions, versions, versions,
                  create_draft(versions, versions, V2, "anna", "", AT), "paul", AT)
    against, diff = version_diff(versions, 2)
    assert against == 1 and "-version: 1\n" in diff and "+version: 2\n" in diff
    assert version_diff(versions, 1)[0] is None and version_diff(versions, 5) is None
