"""Hypothesis strategies for rule files the language accepts, generated from the
language's own schema (``FACT_KINDS``, ``FACT_VALUES``, ``OPERATORS``, the actions)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from hub.domain.rules import FACT_KINDS, NUMBER, OPERATORS, TAGS, TEXT, RuleSet
from hub.domain.rules.schema import DEFAULT_ANOMALIES, FACT_VALUES

OPS_BY_KIND = {
    TEXT: ("eq", "ne", "in", "not_in", "contains", "exists"),
    NUMBER: ("eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "exists"),
    TAGS: ("contains", "exists"),
}
assert {op for ops in OPS_BY_KIND.values() for op in ops} == set(OPERATORS)

# text that YAML likes to read as something else, beside arbitrary printable text
TRICKY = ("", "yes", "no", "on", "null", "~", "true", "1", "1.5", "0x1F", "1e3", "#x",
          "- a", "a: b", "'q'", '"dq"', " lead", "trail ", "[x]", "{y}", "&a", "*b", "!t",
          "%p", "@", "`", "新疆维吾尔自治区", "直播间-7", "a\tb")
words = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
            max_size=10))
names = words.filter(bool)
numbers = st.one_of(st.integers(-10**6, 10**12),
                    st.floats(allow_nan=False, allow_infinity=False, width=64))


def _scalar(field: str) -> st.SearchStrategy[Any]:
    if field in FACT_VALUES:
        return st.sampled_from(sorted(getattr(v, "value", v) for v in FACT_VALUES[field]))
    return numbers if FACT_KINDS[field] == NUMBER else words


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(FACT_KINDS)))
    op = draw(st.sampled_from(OPS_BY_KIND[FACT_KINDS[field]]))
    if op == "exists":
        value: Any = draw(st.booleans())
    elif op in ("in", "not_in"):
        value = draw(st.lists(_scalar(field), min_size=1, max_size=4))
    elif op == "contains" and FACT_KINDS[field] == TEXT and field not in FACT_VALUES:
        value = draw(words)
    else:
        value = draw(_scalar(field))
    return {"field": field, op: value}


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        inner.map(lambda x: {"not": x})),
    max_leaves=8)

actions = st.fixed_dictionaries({}, optional={
    "lane": st.sampled_from(["P0", "P1", "P2", "P3"]), "packing_group": names,
    "hold": names, "alert": names,
    "delivery": st.sampled_from(["standard", "express", "same_city"])}).filter(bool)
rule_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,12}", fullmatch=True)


@st.composite
def rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(rule_ids, max_size=6, unique=True))
    out = []
    for rule_id in ids:
        rule: dict[str, Any] = {"id": rule_id, "precedence": draw(st.integers(0, 40))}
        if draw(st.booleans()):
            rule["description"] = draw(words)
        if draw(st.integers(0, 5)):
            rule["when"] = draw(conditions)
        rule["then"] = draw(actions)
        out.append(rule)
    return out


settings = st.fixed_dictionaries(
    {"version": st.integers(1, 10**9), "name": names},
    optional={
        "description": words,
        "hit_policy": st.sampled_from(["first", "collect"]),
        "weights": st.sampled_from([
            {"order_type": 0.25, "customer_tier": 0.25, "region": 0.25, "inventory": 0.25},
            {"order_type": 1, "customer_tier": 0, "region": 0, "inventory": 0}]),
        "lanes": st.sampled_from([{"P0": 90, "P1": 50.5, "P2": 10}, {"P0": 80}]),
        "low_stock": st.integers(0, 1000),
        "remote_regions": st.lists(names, min_size=1, max_size=3),
        "remote_remedy": st.fixed_dictionaries({}, optional={
            "delivery": st.sampled_from(["express", "same_city"]), "carrier": names}),
        "duplicate_window_minutes": st.integers(1, 600),
        "anomalies": st.dictionaries(st.sampled_from(sorted(DEFAULT_ANOMALIES)),
                                     st.fixed_dictionaries({
                                         "severity": st.sampled_from(["info", "warn",
                                                                      "critical"]),
                                         "group": names,
                                         "action": st.sampled_from(["hold", "remedy",
                                                                    "alert"])}),
                                     max_size=3),
    })


def dump(data: dict[str, Any], style: str) -> str:
    if style == "json":  # JSON is YAML too
        return json.dumps(data, ensure_ascii=False, indent=1)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = style == "flow"
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    data = dict(draw(settings))
    data["rules"] = draw(rules())
    return dump(data, draw(st.sampled_from(["json", "block", "flow"])))


def meaning(ruleset: RuleSet) -> tuple:
    """Everything a rule set decides with (not its text, file name or lines)."""
    fields = {k: v for k, v in ruleset.__dict__.items()
              if k not in ("text", "filename", "rules", "evaluator")}
    return (sorted(fields.items(), key=lambda kv: kv[0]),
            tuple(replace(rule, line=0) for rule in ruleset.rules))
