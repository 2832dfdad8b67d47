"""The block builder's API: the schema offers only what the check accepts (suggestions
from recent orders), rule files open as blocks and save back, problems land on their
blocks, and conflicts are warned of in check, save and dry-run."""

from __future__ import annotations

from hub.domain.rules import RuleError, default_ruleset, load_ruleset
from tests.api.conftest import AUTH
from tests.api.test_rules import with_rules

SHADOWED = ("  - {id: douyin-all, precedence: 1, when: {field: channel, eq: douyin}, "
            "then: {packing_group: douyin}}\n"
            "  - {id: douyin-live, precedence: 2, when: {all: [{field: channel, eq: douyin}, "
            "{field: source, eq: live_room}]}, then: {packing_group: live}}\n")


def leaf_file(field: str, op: str, value: object) -> str:
    import json

    return ("version: 1\nname: t\nrules:\n  - id: r\n    precedence: 1\n"
            f"    when: {{field: {field}, {op}: {json.dumps(value, ensure_ascii=False)}}}\n"
            "    then: {lane: P1}\n")


def test_every_field_operator_and_value_the_schema_offers_passes_the_check(hub):
    schema = hub.client.get("/api/rules/builder/schema").json()
    offered = 0
    for field in schema["fields"]:
        samples = (field["values"] or []) + field["suggestions"] or (
            [1] if field["kind"] == "number" else ["x"])
        for op in field["operators"]:
            for value in ([True, False] if op == "exists" else samples):
                sent = [value] if op in ("in", "not_in") else value
                try:
                    load_ruleset(leaf_file(field["name"], op, sent))
                except RuleError as exc:
                    raise AssertionError((field["name"], op, sent, str(exc))) from None
                offered += 1
    for action in schema["actions"]:
        for value in (action["values"] or []) + action["suggestions"] or ["x"]:
            load_ruleset(f"version: 1\nname: t\nrules:\n  - {{id: r, precedence: 1, "
                         f"then: {{{action['name']}: {value}}}}}\n")
            offered += 1
    assert offered > 150
    fields = {f["name"]: f for f in schema["fields"]}
    # closed lists from the language's schema, suggestions from the seeded orders
    assert fields["channel"]["values"] == ["douyin", "jd", "tmall"]
    assert fields["shop"]["suggestions"] == ["flagship"]
    assert fields["receiver.province"]["suggestions"] == ["浙江省"]
    assert fields["items.skus"]["suggestions"] and fields["order_id"]["suggestions"] == []
    assert fields["buyer.tags"]["operators"] == ["contains", "exists"]
    assert {a["name"] for a in schema["actions"]} == {"lane", "packing_group", "hold", "alert",
                                                     "delivery"}


def test_a_rule_file_opens_as_blocks_and_saves_back_with_the_same_meaning(hub):
    text = with_rules(2, SHADOWED)
    r = hub.client.post("/api/rules/builder/open", json={"text": text}, headers=AUTH)
    assert r.status_code == 200, r.text
    doc, next_version = r.json()["document"], r.json()["next_version"]
    assert next_version == 2
    assert [rule["id"] for rule in doc["rules"]] == [
        "douyin-all", "douyin-live", "douyin-live-new-buyer", "vip-same-city-fast"]
    saved = hub.client.post("/api/rules/builder/save", json={"document": doc},
                            headers=AUTH).json()
    assert saved["problems"] == []
    original, again = load_ruleset(text), load_ruleset(saved["text"])
    assert [(r.id, r.precedence, r.when, r.then) for r in again.rules] == [
        (r.id, r.precedence, r.when, r.then) for r in original.rules]
    # douyin-all covers both douyin rules below it
    shadowed = [(w["rule_id"], w["block"], w["line"], w["other_rule_id"])
                for w in saved["warnings"] if w["kind"] == "shadowed"]
    assert shadowed == [("douyin-live", [1], again.rules[1].line, "douyin-all"),
                        ("douyin-live-new-buyer", [2], again.rules[2].line, "douyin-all")]


def test_problems_of_saved_blocks_land_on_their_block(hub):
    doc = hub.client.post("/api/rules/builder/open", json={"text": default_ruleset().text},
                          headers=AUTH).json()["document"]
    doc["rules"][1]["when"]["all"][0]["field"] = "colour"
    r = hub.client.post("/api/rules/builder/save", json={"document": doc}, headers=AUTH)
    assert r.status_code == 200
    problems = r.json()["problems"]
    assert [(p["rule_id"], p["block"]) for p in problems] == [("vip-same-city-fast", [1])]
    assert "colour" in problems[0]["reason"]
    doc["rules"][1]["when"]["all"][0]["field"] = "delivery"
    again = hub.client.post("/api/rules/builder/save", json={"document": doc},
                            headers=AUTH).json()["problems"]
    assert [(p["rule_id"], p["block"], p["line"]) for p in again] == [(None, None, 1)]
    assert "not newer" in again[0]["reason"]  # a settings problem: on no block
    doc["settings"]["version"] = 2
    assert hub.client.post("/api/rules/builder/save", json={"document": doc},
                           headers=AUTH).json()["problems"] == []
    malformed = hub.client.post("/api/rules/builder/save",
                                json={"document": {"rules": [{"id": "a", "when": []}]}},
                                headers=AUTH)
    assert malformed.status_code == 422 and "rules[0].when" in malformed.json()["detail"]
    refused = hub.client.post("/api/rules/builder/open", json={"text": "version: x\n"},
                              headers=AUTH)
    assert refused.status_code == 422 and refused.json()["problems"][0]["line"] == 1
    assert hub.client.post("/api/rules/builder/open",
                           json={"text": default_ruleset().text}).status_code == 401


def test_check_and_dry_run_flag_a_shadowed_rule_with_its_line(hub):
    text = with_rules(2, SHADOWED)
    line = text.splitlines().index(SHADOWED.splitlines()[1]) + 1
    body = hub.client.post("/api/rules/check", json={"text": text}, headers=AUTH).json()
    assert body["ok"] is True
    shadowed = [w for w in body["warnings"] if w["kind"] == "shadowed"]
    assert (shadowed[0]["rule_id"], shadowed[0]["line"], shadowed[0]["block"]) == (
        "douyin-live", line, [1])
    assert f"line {line - 1}" in shadowed[0]["reason"]  # the rule above that covers it
    dry = hub.client.post("/api/rules/dry-run", json={"text": text, "n": 5},
                          headers=AUTH).json()
    assert next(w["line"] for w in dry["warnings"] if w["kind"] == "shadowed") == line
