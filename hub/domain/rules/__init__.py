"""The rule language: a versioned YAML file with the priority weights and tables, the
anomaly policies and the routing rules, checked with line numbers and compiled once to
an evaluator that runs over a batch of order facts. See docs/rules.md.

This root is the rule language's public API: loading and evaluating a rule set, and
its syntax tree (``Cond``: ``All``, ``Any_``, ``Not``, ``Leaf``) for tools that
translate rules to another engine (``benchmarks/zen_export.py``)."""

from hub.domain.rules.conditions import OPERATORS, All, Any_, Cond, Leaf, Not
from hub.domain.rules.evaluator import Evaluator, Hit, merge_actions
from hub.domain.rules.loader import default_ruleset, load_ruleset, load_ruleset_file
from hub.domain.rules.model import AnomalyPolicy, Problem, Rule, RuleError, RuleSet
from hub.domain.rules.schema import FACT_KINDS, NUMBER, TAGS, TEXT

__all__ = [
    "FACT_KINDS",
    "NUMBER",
    "OPERATORS",
    "TAGS",
    "TEXT",
    "All",
    "AnomalyPolicy",
    "Any_",
    "Cond",
    "Evaluator",
    "Hit",
    "Leaf",
    "Not",
    "Problem",
    "Rule",
    "RuleError",
    "RuleSet",
    "default_ruleset",
    "load_ruleset",
    "load_ruleset_file",
    "merge_actions",
]
