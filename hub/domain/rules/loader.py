"""Read a rule file (YAML), check it, and build a ``RuleSet``. Every problem found is
reported with its line, all at once, as one ``RuleError``.

>>> rs = load_ruleset("version: 3\\nname: tiny\\nrules: []\\n")
>>> (rs.version, rs.name, rs.hit_policy, len(rs.rules))
(3, 'tiny', 'first', 0)
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from hub.domain.rules.conditions import ALWAYS, Path, exclusive, parse_condition
from hub.domain.rules.model import AnomalyPolicy, Problem, Rule, RuleError, RuleSet
from hub.domain.rules.schema import DEFAULT_ANOMALIES, RuleFile, RuleModel

DEFAULT_FILE = "hub/domain/rules/default.yaml"


MAX_VALUES = 200_000  # YAML aliases can make a small file expand enormously


class _TooLarge(Exception):
    pass


def _plain(node: Any, budget: list[int]) -> Any:
    """ruamel's round-trip types as plain Python (so strict pydantic sees real types)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, dict):
        return {_plain(k, budget): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget) for v in node]
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _line(root: Any, path: Path) -> int:
    """1-based line of the deepest node of ``path`` found in the YAML tree."""
    node, line = root, getattr(getattr(root, "lc", None), "line", 0) or 0
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line, node = node.lc.key(part)[0], node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.lc.item(part)[0], node[part]
        elif part != "[key]":
            break
    return line + 1


def _where(loc: Path) -> str:
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_NOUNS = {"then": ("action", "lane, packing_group, hold, alert, delivery"),
          "lanes": ("lane", "P0, P1, P2 (scores below P2 are P3)"),
          "weights": ("weight", "order_type, customer_tier, region, inventory"),
          "scores": ("score table", "order_type, customer_tier, region, inventory"),
          "remote_remedy": ("field", "delivery, carrier")}


def _reason(err: dict, prefix: Path = ()) -> str:
    loc, kind, msg = prefix + tuple(err["loc"]), err["type"], err["msg"]
    msg = msg.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        parent = loc[-2] if len(loc) > 1 else None
        noun, known = _NOUNS.get(parent, ("field", "")) if isinstance(parent, str) else (
            "field", "id, precedence, description, when, then" if loc[0] == "rules" else "")
        if len(loc) == 1:
            known = ", ".join(RuleFile.model_fields)
        where = f" in {_where(loc[:-1])}" if len(loc) > 1 else ""
        return f"unknown {noun} {loc[-1]!r}{where}" + (f"; known: {known}" if known else "")
    if kind == "missing":
        return f"missing field {loc[-1]!r}" + (f" in {_where(loc[:-1])}" if len(loc) > 1 else "")
    if "[key]" in loc:
        expected = msg.replace("Input should be ", "expected ")
        return f"{_where(loc[:-2]) or 'top level'}: unknown key {loc[-2]!r}; {expected}"
    if kind == "string_pattern_mismatch" and loc[-1] == "id":
        return f"{_where(loc)}: a rule id is letters, digits and - _ . : (starting with a " \
            f"letter or digit), got {err.get('input')!r}"
    if kind == "value_error":
        return f"{_where(loc)}: {msg}" if loc else msg
    shown = repr(err.get("input"))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{_where(loc)}: {msg}, got {shown}"


def _parse_yaml(text: str, filename: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(str(p) for p in (getattr(exc, "context", None),
                                         getattr(exc, "problem", None)) if p)
        raise RuleError([Problem(filename, line, f"YAML syntax error: {what or exc}")]) from None


def _rules(plain: dict, problems: list[tuple[Path, str]]) -> list[tuple[int, Rule]]:
    """Check each rule on its own; return the rules that passed, with their index."""
    items = plain.get("rules", [])
    if not isinstance(items, list):
        problems.append((("rules",), "rules: expects a list of rules"))
        return []
    good: list[tuple[int, Rule]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path: Path = ("rules", i)
        if not isinstance(item, dict):
            problems.append((path, f"rules[{i}]: a rule is a mapping with id, precedence, "
                             "when and then"))
            continue
        before = len(problems)
        rule_id = item.get("id")
        if isinstance(rule_id, str) and rule_id in seen:
            problems.append(((*path, "id"), f"duplicate rule id {rule_id!r} "
                             f"(first used by rules[{seen[rule_id]}])"))
        elif isinstance(rule_id, str):
            seen[rule_id] = i
        when = parse_condition(item["when"], (*path, "when"), problems) \
            if "when" in item else ALWAYS
        try:
            model = RuleModel.model_validate(item)
        except ValidationError as exc:
            problems += [(path + tuple(e["loc"]), _reason(e, path)) for e in exc.errors()]
            continue
        if len(problems) == before:
            good.append((i, Rule(model.id, model.precedence, when,
                                 model.then.model_dump(exclude_none=True), 0,
                                 model.description)))
    return good


def _contradictions(rules: list[tuple[int, Rule]]) -> list[tuple[Path, str]]:
    found = []
    for j, (index, later) in enumerate(rules):
        for _, earlier in rules[:j]:
            if earlier.precedence != later.precedence:
                continue
            clash = sorted(k for k in earlier.then.keys() & later.then.keys()
                           if k != "alert" and earlier.then[k] != later.then[k])
            if clash and not exclusive(earlier.when, later.when):
                what = ", ".join(f"{k} ({earlier.then[k]} vs {later.then[k]})" for k in clash)
                found.append((("rules", index, "precedence"),
                              f"rule {later.id!r} contradicts rule {earlier.id!r} (line "
                              f"{earlier.line}): both have precedence {later.precedence}, set "
                              f"{what} and their conditions can both be true; give them "
                              "different precedences or make the conditions exclusive"))
    return found


def load_ruleset(text: str, filename: str = "<rules>") -> RuleSet:
    """Check ``text`` and build its ``RuleSet``; raises ``RuleError`` listing every problem."""
    root = _parse_yaml(text, filename)
    if not isinstance(root, CommentedMap):
        what = "empty" if root is None else f"not a mapping of settings ({type(root).__name__})"
        raise RuleError([Problem(filename, 1, f"the rule file is {what}; it needs at least "
                                 "version: and name:")])
    try:
        plain = _plain(root, [MAX_VALUES])
    except _TooLarge:
        raise RuleError([Problem(filename, 1, f"the rule file holds more than {MAX_VALUES} "
                                 "values (counting what its aliases expand to)")]) from None
    problems: list[tuple[Path, str]] = []
    model = None
    try:
        model = RuleFile.model_validate({k: v for k, v in plain.items() if k != "rules"})
    except ValidationError as exc:
        problems += [(tuple(e["loc"]), _reason(e)) for e in exc.errors()]
    rules = [(i, replace(rule, line=_line(root, ("rules", i))))
             for i, rule in _rules(plain, problems)]
    problems += _contradictions(rules)
    if problems:
        raise RuleError([Problem(filename, _line(root, path), reason) for path, reason in problems])
    assert model is not None
    anomalies = {code: AnomalyPolicy(**policy) for code, policy in DEFAULT_ANOMALIES.items()}
    anomalies.update({code: AnomalyPolicy(**p.model_dump()) for code, p in model.anomalies.items()})
    return RuleSet(
        version=model.version, name=model.name, hit_policy=model.hit_policy,
        weights=model.weights.model_dump(),
        scores={k: dict(v) for k, v in model.scores.model_dump().items()},
        lanes=model.lanes.model_dump(), low_stock=model.low_stock,
        remote_regions=tuple(model.remote_regions), remote_remedy=model.remote_remedy.model_dump(),
        duplicate_window_minutes=model.duplicate_window_minutes, anomalies=anomalies,
        rules=tuple(sorted((rule for _, rule in rules), key=lambda r: r.precedence)),
        text=text, filename=filename)


def load_ruleset_file(path: str | FsPath) -> RuleSet:
    """Load a rule file; raises ``OSError`` if it cannot be read, ``RuleError`` if refused."""
    data = FsPath(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RuleError([Problem(str(path), line, "not UTF-8 text")]) from None
    return load_ruleset(text, str(path))


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The shipped rule set (``hub/domain/rules/default.yaml``)."""
    text = resources.files("hub.domain.rules").joinpath("default.yaml").read_text("utf-8")
    return load_ruleset(text, DEFAULT_FILE)
