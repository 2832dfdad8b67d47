"""Rule files: what loads, and every kind of refusal with its line."""

from __future__ import annotations

import pickle
import textwrap

import pytest

from hub.domain.decision import Reason
from hub.domain.rules import RuleError, RuleSet, default_ruleset, load_ruleset, load_ruleset_file

HEAD = "version: 2\nname: test\n"


def _line(text: str, marker: str, nth: int = 1) -> int:
    """1-based line of the nth line of ``text`` containing ``marker``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    return hits[nth - 1]


def _refuse(text: str, filename: str = "r.yaml") -> list[tuple[int, str]]:
    with pytest.raises(RuleError) as info:
        load_ruleset(text, filename)
    assert all(p.file == filename for p in info.value.problems)
    return [(p.line, p.reason) for p in info.value.problems]


def _rules(body: str, head: str = HEAD) -> str:
    return head + "rules:\n" + textwrap.indent(textwrap.dedent(body), "  ")


def test_default_ruleset_loads_with_the_spec_defaults():
    rs = default_ruleset()
    assert isinstance(rs, RuleSet)
    assert (rs.version, rs.name, rs.hit_policy) == (1, "default", "first")
    assert rs.weights == {"order_type": 0.35, "customer_tier": 0.30, "region": 0.25,
                          "inventory": 0.10}
    assert rs.lanes == {"P0": 80, "P1": 60, "P2": 40}
    assert rs.scores["order_type"]["live_flash"] == 100
    assert rs.scores["customer_tier"]["plus"] == 100
    assert rs.scores["region"]["same_city"] == 100
    assert rs.scores["inventory"]["in_stock"] == 60
    assert rs.remote_regions[:2] == ("新疆", "西藏")
    assert rs.remote_remedy == {"delivery": "express", "carrier": "EMS"}
    assert rs.duplicate_window_minutes == 30 and rs.low_stock == 20
    assert set(rs.anomalies) == {r.value for r in Reason}
    policy = rs.anomalies["remote_standard_express"]
    assert (policy.severity, policy.group, policy.action) == ("info", "logistics", "remedy")
    assert rs.anomalies["out_of_stock_paid"].action == "hold"
    assert [r.id for r in rs.rules] == ["douyin-live-new-buyer", "vip-same-city-fast"]
    assert rs.text.startswith("# OrderHub default rule set")
    assert rs.lane_for(96) == "P0" and rs.lane_for(39.9) == "P3"


def test_rules_are_ordered_by_precedence_then_file_order_and_remember_their_line():
    text = _rules("""\
        - id: late
          precedence: 50
          then: {alert: ops}
        - id: early
          precedence: 5
          when: {field: channel, eq: jd}
          then: {lane: P1}
        - id: early-too
          precedence: 5
          when: {field: channel, eq: tmall}
          then: {lane: P2}
        """)
    rs = load_ruleset(text)
    assert [r.id for r in rs.rules] == ["early", "early-too", "late"]
    assert rs.rules[0].line == _line(text, "id: early")


def test_ruleset_pickles_without_its_compiled_evaluator():
    rs = load_ruleset(_rules("- {id: a, precedence: 1, when: {field: lane, eq: P1}, "
                             "then: {lane: P0}}\n"))
    assert rs.evaluator.evaluate([{"lane": "P1"}])[0][0].rule_id == "a"
    copy = pickle.loads(pickle.dumps(rs))
    assert "evaluator" not in copy.__dict__
    assert copy.evaluator.evaluate([{"lane": "P1"}])[0][0].rule_id == "a"


def test_yaml_syntax_error_reports_ruamel_line():
    text = HEAD + "rules:\n  - id: a\n    precedence: [1, 2\n    then: {lane: P0}\n"
    problems = _refuse(text)
    assert len(problems) == 1
    line, reason = problems[0]
    assert reason.startswith("YAML syntax error")
    assert line in (_line(text, "precedence"), _line(text, "then"))


def test_duplicate_yaml_key_is_a_syntax_error_on_its_line():
    text = HEAD + "low_stock: 5\nlow_stock: 6\n"
    assert _refuse(text)[0][0] == _line(text, "low_stock: 6")


def test_empty_or_non_mapping_file():
    assert _refuse("")[0] == (1, "the rule file is empty; it needs at least version: and name:")
    assert "not a mapping" in _refuse("- a\n- b\n")[0][1]


def test_unknown_fields_at_every_level():
    text = HEAD + textwrap.dedent("""\
        colour: red
        lanes: {P0: 80, P1: 60, P9: 40}
        anomalies:
          invalid_phone: {severity: warn, group: cs, action: hold, urgent: true}
        rules:
          - id: a
            precedence: 1
            owner: bob
            when: {field: channel, eq: jd}
            then: {lane: P0, colour: red}
        """)
    problems = dict(_refuse(text))
    assert "unknown field 'colour'" in problems[_line(text, "colour: red")]
    assert "unknown lane 'P9'" in problems[_line(text, "P9")]
    assert "unknown field 'urgent'" in problems[_line(text, "urgent")]
    assert "unknown field 'owner'" in problems[_line(text, "owner")]
    assert "unknown action 'colour'" in problems[_line(text, "then:")]
    assert len(problems) == 5


def test_missing_required_fields():
    text = "name: x\nrules:\n  - id: a\n    when: {field: channel, eq: jd}\n"
    problems = _refuse(text)
    assert (1, "missing field 'version'") in problems
    assert (_line(text, "- id: a"), "missing field 'precedence' in rules[0]") in problems
    assert (_line(text, "- id: a"), "missing field 'then' in rules[0]") in problems


def test_unknown_operator_and_unknown_fact():
    text = _rules("""\
        - id: a
          precedence: 1
          when:
            all:
              - {field: channel, equals: jd}
              - {field: buyer.tag, contains: new_first_order}
              - {field: channel}
          then: {lane: P0}
        """)
    problems = dict(_refuse(text))
    assert problems[_line(text, "equals")].startswith("unknown operator 'equals'")
    assert problems[_line(text, "buyer.tag,")].startswith(
        "unknown order fact 'buyer.tag' (did you mean 'buyer.tags'?)")
    assert problems[_line(text, "{field: channel}")].startswith("a condition needs an operator")


@pytest.mark.parametrize("leaf, words", [
    ("{field: amounts.paid_fen, gt: 'abc'}", "gt: expects a number for 'amounts.paid_fen'"),
    ("{field: channel, in: 5}", "in: expects a non-empty list of text values, got a number"),
    ("{field: channel, in: []}", "in: expects a non-empty list"),
    ("{field: channel, eq: 5}", "eq: expects text for 'channel', got a number 5"),
    ("{field: channel, eq: Douyin}", "'Douyin' is not a known channel value"),
    ("{field: anomalies, contains: late}", "'late' is not a known anomalies value"),
    ("{field: channel, gt: 3}", "'channel' is text; gt compares numbers"),
    ("{field: buyer.tags, eq: vip}", "'buyer.tags' is a list of values; use contains"),
    ("{field: score, contains: 3}", "'score' is a number; contains works on lists and text"),
    ("{field: source, exists: yes}", "exists: expects true or false, got text"),
    ("{field: score, ge: true}", "expects a number for 'score', got true/false"),
    ("{any: []}", "any: needs a non-empty list of conditions"),
    ("{maybe: [{field: score, ge: 1}]}", "unknown condition key 'maybe'"),
])
def test_values_of_the_wrong_type_in_conditions(leaf, words):
    text = _rules(f"- id: a\n  precedence: 1\n  when: {leaf}\n  then: {{lane: P0}}\n")
    problems = _refuse(text)
    assert len(problems) == 1, problems
    assert problems[0][0] == _line(text, "when:")
    assert words in problems[0][1]


@pytest.mark.parametrize("setting, words", [
    ("lanes: {P0: 80, P1: 60, P2: 'x'}", "lanes.P2: Input should be a valid number"),
    ("lanes: {P0: 50, P1: 60, P2: 40}", "P0 > P1 > P2"),
    ("hit_policy: all", "hit_policy: Input should be 'first' or 'collect'"),
    ("remote_remedy: {delivery: rocket, carrier: EMS}", "remote_remedy.delivery"),
    ("weights: {order_type: '0.35', customer_tier: 0.30, region: 0.25, inventory: 0.10}",
     "weights.order_type: Input should be a valid number"),
    ("weights: {order_type: 0.36, customer_tier: 0.30, region: 0.25, inventory: 0.10}",
     "weights must sum to 1, they sum to 1.01"),
    ("low_stock: 2.5", "low_stock: Input should be a valid integer"),
    ("version: '3'", "version: Input should be a valid integer"),
    ("anomalies: {late: {severity: warn, group: x, action: hold}}",
     "anomalies: unknown key 'late'"),
    ("anomalies: {invalid_phone: {severity: loud, group: x, action: hold}}",
     "anomalies.invalid_phone.severity"),
    ("scores: {inventory: {low: 100, in_stock: 60, out: 0}}", "needs an entry for unknown"),
    ("scores: {region: {same_city: 101, default: 40}}", "scores.region.same_city"),
    ("remote_regions: []", "remote_regions"),
])
def test_settings_of_the_wrong_type(setting, words):
    key = setting.split(":")[0]
    head = HEAD.replace("version: 2\n", "") if key == "version" else HEAD
    text = head + "low_stock: 3\n" * (key != "low_stock") + setting + "\n"
    problems = _refuse(text)
    assert len(problems) == 1, problems
    assert problems[0][0] == _line(text, setting)
    assert words in problems[0][1]


def test_wrong_action_values():
    text = _rules("""\
        - id: a
          precedence: 1
          then: {lane: P9}
        - id: b
          precedence: 2
          then: {delivery: drone}
        - id: c
          precedence: 3
          then: {}
        - id: 'bad id!'
          precedence: -1
          then: {hold: rule_hold}
        """)
    problems = _refuse(text)
    lines = [line for line, _ in problems]
    assert lines == [_line(text, "P9"), _line(text, "drone"), _line(text, "then: {}"),
                     _line(text, "bad id"), _line(text, "precedence: -1")]
    assert "rules[0].then.lane: Input should be 'P0', 'P1', 'P2' or 'P3'" in problems[0][1]
    assert "needs at least one action" in problems[2][1]


def test_duplicate_rule_ids():
    text = _rules("""\
        - {id: a, precedence: 1, when: {field: channel, eq: jd}, then: {lane: P0}}
        - {id: b, precedence: 2, then: {lane: P1}}
        - {id: a, precedence: 3, then: {lane: P2}}
        """)
    assert _refuse(text) == [(_line(text, "id: a", 2),
                              "duplicate rule id 'a' (first used by rules[0])")]


def test_contradicting_rules_at_the_same_precedence():
    text = _rules("""\
        - id: plus-fast
          precedence: 10
          when: {field: buyer.tier, eq: plus}
          then: {lane: P0, alert: vip}
        - id: jd-slow
          precedence: 10
          when: {field: channel, eq: jd}
          then: {lane: P2, alert: jd}
        """)
    problems = _refuse(text)
    assert len(problems) == 1
    line, reason = problems[0]
    assert line == _line(text, "precedence: 10", 2)
    assert reason.startswith(f"rule 'jd-slow' contradicts rule 'plus-fast' (line "
                             f"{_line(text, 'id: plus-fast')}): both have precedence 10, "
                             "set lane (P0 vs P2)")


@pytest.mark.parametrize("first, second", [
    ("{field: channel, eq: jd}", "{field: channel, eq: tmall}"),
    ("{field: channel, in: [jd, tmall]}", "{field: channel, eq: douyin}"),
    ("{field: channel, eq: jd}", "{field: channel, not_in: [jd]}"),
    ("{field: channel, eq: jd}", "{not: {field: channel, eq: jd}}"),
    ("{field: score, ge: 80}", "{field: score, lt: 80}"),
    ("{field: score, gt: 10}", "{field: score, eq: 10}"),
    ("{field: source, exists: true}", "{field: source, exists: false}"),
    ("{all: [{field: delivery, eq: same_city}, {field: buyer.tier, eq: plus}]}",
     "{any: [{field: delivery, eq: express}, {field: delivery, eq: standard}]}"),
])
def test_same_precedence_is_fine_when_conditions_are_provably_exclusive(first, second):
    text = _rules(f"""\
        - {{id: a, precedence: 7, when: {first}, then: {{lane: P0}}}}
        - {{id: b, precedence: 7, when: {second}, then: {{lane: P3}}}}
        """)
    assert len(load_ruleset(text).rules) == 2


@pytest.mark.parametrize("first, second", [
    ("{field: score, ge: 80}", "{field: score, le: 80}"),
    ("{field: channel, ne: jd}", "{field: channel, ne: tmall}"),
    ("{field: buyer.tags, contains: a}", "{field: buyer.tags, contains: b}"),
    ("{any: [{field: channel, eq: jd}, {field: score, gt: 1}]}", "{field: channel, eq: tmall}"),
])
def test_same_precedence_overlapping_conditions_are_refused(first, second):
    text = _rules(f"""\
        - {{id: a, precedence: 7, when: {first}, then: {{lane: P0}}}}
        - {{id: b, precedence: 7, when: {second}, then: {{lane: P3}}}}
        """)
    assert "contradicts rule 'a'" in _refuse(text)[0][1]


def test_same_action_value_or_only_alerts_do_not_contradict():
    text = _rules("""\
        - {id: a, precedence: 7, then: {lane: P0, alert: x}}
        - {id: b, precedence: 7, then: {lane: P0, alert: y, packing_group: g}}
        """)
    assert len(load_ruleset(text).rules) == 2


def test_all_problems_are_reported_together_in_line_order():
    text = _rules("""\
        - {id: a, precedence: 1, when: {field: nope, eq: 1}, then: {lane: P0}}
        - {id: b, precedence: 2, when: {field: score, gt: x}, then: {lane: P7}}
        """, head=HEAD + "colour: red\n")
    with pytest.raises(RuleError) as info:
        load_ruleset(text, "f.yaml")
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines) and len(lines) == 4
    assert str(info.value).splitlines()[0] == f"f.yaml:{_line(text, 'colour')}: unknown field " \
        "'colour'; known: version, name, description, hit_policy, weights, scores, lanes, " \
        "low_stock, remote_regions, remote_remedy, duplicate_window_minutes, anomalies, rules"
    assert all(s.startswith("f.yaml:") for s in str(info.value).splitlines())


def test_load_ruleset_file(tmp_path):
    good = tmp_path / "rules.yaml"
    good.write_text(default_ruleset().text.replace("version: 1", "version: 9"), "utf-8")
    assert load_ruleset_file(good).version == 9
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: 1\nname: \xff\xfe\n")
    with pytest.raises(RuleError) as info:
        load_ruleset_file(bad)
    assert str(info.value) == f"{bad}:2: not UTF-8 text"
    with pytest.raises(OSError):
        load_ruleset_file(tmp_path / "missing.yaml")


def test_alias_expansion_is_bounded():
    text = "version: 1\nname: x\nd0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for i in range(1, 8):
        text += f"d{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    problems = _refuse(text)
    assert problems == [(1, "the rule file holds more than 200000 values (counting what its "
                            "aliases expand to)")]


def test_rule_id_format():
    text = _rules("- {id: 'bad id', precedence: 1, then: {lane: P0}}\n")
    assert _refuse(text) == [(_line(text, "bad id"), "rules[0].id: a rule id is letters, digits "
                              "and - _ . : (starting with a letter or digit), got 'bad id'")]
