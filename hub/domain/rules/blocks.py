"""A rule file as blocks, and back: what the dashboard's block builder edits.

The block document is JSON::

    {"settings": {...every top-level key but rules and hit_policy, kept as they are...},
     "hit_policy": "first" | "collect",
     "rules": [{"id", "precedence", "line", "description"?, "when": COND | None,
                "then": {"lane"?, "packing_group"?, "hold"?, "alert"?, "delivery"?}}]}
    COND = {"field", "op", "value"} | {"all": [COND]} | {"any": [COND]} | {"not": COND}

Rules are listed in evaluation order (precedence, then file order); ``when`` None is a
rule without a condition. ``open_blocks`` takes any text the check accepts;
``save_blocks`` writes the document as a rule file (comments are not kept) and the first
line of each rule, so a problem found in that text is placed on its block.

>>> doc = open_blocks('''version: 2
... name: x
... rules:
...   - {id: jd, precedence: 5, when: {field: channel, in: [jd]}, then: {lane: P1}}
... ''')
>>> doc["rules"][0]["when"]
{'field': 'channel', 'op': 'in', 'value': ['jd']}
>>> print(save_blocks(doc).text, end="")
version: 2
name: x
hit_policy: first
rules:
  - id: jd
    precedence: 5
    when: {field: channel, in: [jd]}
    then: {lane: P1}
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from hub.domain.rules.conditions import COMBINATORS
from hub.domain.rules.loader import _parse_yaml, _plain, load_ruleset
from hub.errors import OrderHubError

RULE_KEYS = ("id", "precedence", "line", "description", "when", "then")
_PLAIN = re.compile(r"[^\W\d][\w.-]*")
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


class BlockError(OrderHubError):
    """A block document that is not one: ``where`` is the path to the bad part."""

    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Saved:
    """The rule file a document makes, and the 1-based first line of each rule."""

    text: str
    rule_lines: tuple[int, ...]

    def block_of(self, line: int) -> int | None:
        """The index of the rule (block) ``line`` falls in, or None (settings)."""
        found = None
        for i, first in enumerate(self.rule_lines):
            if first <= line:
                found = i
        return found


def _s(value: Any) -> Any:
    """A text written plain only when YAML cannot read it as anything else; otherwise
    double-quoted (ruamel's own choice misreads some texts in flow style)."""
    if isinstance(value, str) and not (_PLAIN.fullmatch(value)
                                       and value.lower() not in _WORDS):
        return DoubleQuotedScalarString(value)
    return value


def _cond_to_block(node: Any) -> dict[str, Any]:
    if "field" in node:
        op = next(k for k in node if k != "field")
        return {"field": node["field"], "op": op, "value": node[op]}
    key = next(iter(node))
    if key == "not":
        return {"not": _cond_to_block(node["not"])}
    return {key: [_cond_to_block(item) for item in node[key]]}


def open_blocks(text: str, filename: str = "<upload>") -> dict[str, Any]:
    """The block document of a rule file; ``RuleError`` when the check refuses it."""
    ruleset = load_ruleset(text, filename)
    plain = _plain(_parse_yaml(text, filename), [10**9])
    lines = {rule.id: rule.line for rule in ruleset.rules}
    rules = []
    for index, item in enumerate(plain.get("rules") or []):
        block: dict[str, Any] = {"id": item["id"], "precedence": item["precedence"],
                                 "line": lines.get(item["id"])}
        if "description" in item:
            block["description"] = item["description"]
        block["when"] = _cond_to_block(item["when"]) if "when" in item else None
        block["then"] = dict(item["then"])
        rules.append((item["precedence"], index, block))
    return {"settings": {k: v for k, v in plain.items() if k not in ("rules", "hit_policy")},
            "hit_policy": plain.get("hit_policy", "first"),
            "rules": [block for _, _, block in sorted(rules, key=lambda r: r[:2])]}


def _flow(data: dict[str, Any]) -> CommentedMap:
    node = CommentedMap((_s(k), _s(v)) for k, v in data.items())
    node.fa.set_flow_style()
    return node


def _flow_list(items: list[Any]) -> CommentedSeq:
    node = CommentedSeq(_s(v) for v in items)
    node.fa.set_flow_style()
    return node


def _styled(value: Any) -> Any:
    """Settings as people write them: a table of plain values on one line."""
    if isinstance(value, dict):
        if all(not isinstance(v, dict | list) for v in value.values()):
            return _flow(dict(value))
        return CommentedMap((_s(k), _styled(v)) for k, v in value.items())
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return _flow_list(list(value))
        return CommentedSeq(_styled(v) for v in value)
    return _s(value)


def _block_to_cond(node: Any, where: str) -> Any:
    """A condition block as the rule file writes it, checking only its shape (the rule
    file's check judges fields, operators and values)."""
    if not isinstance(node, dict):
        raise BlockError(where, "a condition is a mapping: {field, op, value}, {all: [...]}, "
                         "{any: [...]} or {not: ...}")
    if "field" in node or "op" in node:
        extra = sorted(set(node) - {"field", "op", "value"})
        if extra or not {"field", "op", "value"} <= set(node):
            raise BlockError(where, "a condition test has exactly field, op and value"
                             + (f"; unknown: {', '.join(map(str, extra))}" if extra else ""))
        if not isinstance(node["op"], str) or not node["op"] or node["op"] == "field":
            raise BlockError(f"{where}.op", "op is an operator name")
        value = node["value"]
        return _flow({"field": node["field"],
                      node["op"]: _flow_list(value) if isinstance(value, list) else value})
    if len(node) != 1 or next(iter(node)) not in COMBINATORS:
        raise BlockError(where, "a condition group has exactly one of all, any, not")
    key, body = next(iter(node.items()))
    if key == "not":
        return CommentedMap({"not": _block_to_cond(body, f"{where}.not")})
    if not isinstance(body, list):
        raise BlockError(f"{where}.{key}", f"{key} holds a list of conditions")
    items = [_block_to_cond(item, f"{where}.{key}[{i}]") for i, item in enumerate(body)]
    return CommentedMap({key: CommentedSeq(items)})


def _rule(block: Any, where: str) -> CommentedMap:
    if not isinstance(block, dict):
        raise BlockError(where, "a rule block is a mapping with id, precedence, when, then")
    unknown = sorted(set(block) - set(RULE_KEYS))
    if unknown:
        raise BlockError(where, f"unknown key(s) {', '.join(map(str, unknown))}; a rule block "
                         f"has {', '.join(RULE_KEYS)}")
    rule = CommentedMap()
    for key in ("id", "precedence", "description"):
        if key in block:
            rule[key] = _s(block[key])
    if block.get("when") is not None:
        rule["when"] = _block_to_cond(block["when"], f"{where}.when")
    then = block.get("then")
    rule["then"] = _flow(dict(then)) if isinstance(then, dict) else then
    return rule


def save_blocks(document: Any) -> Saved:
    """The rule file a block document makes (``BlockError`` when it is not one)."""
    if not isinstance(document, dict):
        raise BlockError("document", "a block document is a mapping with settings, "
                         "hit_policy and rules")
    unknown = sorted(set(document) - {"settings", "hit_policy", "rules"})
    if unknown:
        raise BlockError("document", f"unknown key(s) {', '.join(map(str, unknown))}")
    settings = document.get("settings") or {}
    if not isinstance(settings, dict) or {"rules", "hit_policy"} & set(settings):
        raise BlockError("settings", "settings is a mapping without rules and hit_policy")
    blocks = document.get("rules") or []
    if not isinstance(blocks, list):
        raise BlockError("rules", "rules is a list of rule blocks")
    root = CommentedMap((_s(k), _styled(v)) for k, v in settings.items())
    root["hit_policy"] = document.get("hit_policy", "first")
    root["rules"] = CommentedSeq(_rule(b, f"rules[{i}]") for i, b in enumerate(blocks))
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(root, out)
    text = out.getvalue()
    try:
        written = yaml.load(text)["rules"]
        lines = tuple(written.lc.item(i)[0] + 1 for i in range(len(blocks)))
    except Exception:  # a value YAML cannot read back: the check reports it
        lines = ()
    return Saved(text, lines)
