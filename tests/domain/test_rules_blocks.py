"""Rule files as blocks and back (hub.domain.rules.blocks): any file the language accepts
opens as blocks and saves with the same meaning (property test over generated files)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings

from hub.domain.rules import RuleError, default_ruleset, load_ruleset
from hub.domain.rules.blocks import BlockError, open_blocks, save_blocks
from tests.domain.rule_files import meaning, rule_files


def without_lines(doc: dict) -> dict:
    return {**doc, "rules": [{k: v for k, v in r.items() if k != "line"} for r in doc["rules"]]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_files())
def test_open_save_parse_keeps_the_meaning_of_any_accepted_file(text):
    try:
        original = load_ruleset(text)
    except RuleError:  # e.g. two rules of one precedence that contradict: not accepted
        assume(False)
    doc = open_blocks(text)
    sent = json.loads(json.dumps(doc, ensure_ascii=False))  # as the browser sends it back
    saved = save_blocks(sent)
    again = load_ruleset(saved.text)
    assert meaning(again) == meaning(original)
    assert without_lines(open_blocks(saved.text)) == without_lines(doc)
    assert [rule.line for rule in again.rules] == list(saved.rule_lines)


def test_the_default_rules_open_in_evaluation_order_with_their_lines():
    text = default_ruleset().text
    doc = open_blocks(text)
    assert [(r["id"], r["line"]) for r in doc["rules"]] == [
        (r.id, r.line) for r in default_ruleset().rules]
    assert doc["hit_policy"] == "first" and doc["settings"]["version"] == 1
    assert "rules" not in doc["settings"] and "hit_policy" not in doc["settings"]
    assert doc["rules"][0]["when"]["all"][2] == {
        "field": "buyer.tags", "op": "contains", "value": "new_first_order"}
    assert meaning(load_ruleset(save_blocks(doc).text)) == meaning(default_ruleset())


def test_rules_open_sorted_by_precedence_and_a_rule_without_condition_is_none():
    doc = open_blocks("version: 1\nname: x\nrules:\n"
                      "  - {id: late, precedence: 9, then: {lane: P3}}\n"
                      "  - {id: early, precedence: 1, when: {not: {field: score, gt: 50}},"
                      " then: {hold: review}}\n")
    assert [r["id"] for r in doc["rules"]] == ["early", "late"]
    assert doc["rules"][1]["when"] is None
    assert doc["rules"][0]["when"] == {"not": {"field": "score", "op": "gt", "value": 50}}
    assert "when" not in save_blocks(doc).text.split("- id: late")[1]


def test_a_refused_file_does_not_open():
    with pytest.raises(RuleError) as refused:
        open_blocks("version: 1\nname: x\nrules:\n  - {id: a, precedence: 1, "
                    "when: {field: colour, eq: red}, then: {lane: P1}}\n")
    assert refused.value.problems[0].line == 4


@pytest.mark.parametrize(("document", "where"), [
    ([], "document"),
    ({"settings": {}, "rules": [], "extra": 1}, "document"),
    ({"settings": {"rules": []}, "rules": []}, "settings"),
    ({"settings": {}, "rules": {"id": "a"}}, "rules"),
    ({"settings": {}, "rules": [{"id": "a", "then": {"lane": "P1"}, "colour": 1}]}, "rules[0]"),
    ({"settings": {}, "rules": [{"id": "a", "when": {"field": "x", "op": "eq"}}]},
     "rules[0].when"),
    ({"settings": {}, "rules": [{"id": "a", "when": {"all": [{"any": {}}]}}]},
     "rules[0].when.all[0].any"),
    ({"settings": {}, "rules": [{"id": "a", "when": {"all": [], "any": []}}]}, "rules[0].when"),
])
def test_a_malformed_document_says_where(document, where):
    with pytest.raises(BlockError) as bad:
        save_blocks(document)
    assert bad.value.where == where


def test_problems_in_saved_text_land_on_their_block():
    doc = open_blocks(default_ruleset().text)
    doc["rules"][1]["when"]["all"][0]["field"] = "colour"
    saved = save_blocks(doc)
    with pytest.raises(RuleError) as refused:
        load_ruleset(saved.text)
    [problem] = refused.value.problems
    assert saved.block_of(problem.line) == 1
    assert saved.block_of(1) is None
