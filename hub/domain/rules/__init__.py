"""The rule language: a versioned YAML file with the priority weights and tables, the
anomaly policies and the routing rules, checked with line numbers and compiled once to
an evaluator that runs over a batch of order facts. See docs/rules.md."""

from hub.domain.rules.conditions import OPERATORS
from hub.domain.rules.evaluator import Evaluator, Hit, merge_actions
from hub.domain.rules.loader import default_ruleset, load_ruleset, load_ruleset_file
from hub.domain.rules.model import AnomalyPolicy, Problem, Rule, RuleError, RuleSet
from hub.domain.rules.schema import FACT_KINDS

__all__ = [
    "FACT_KINDS", "OPERATORS", "AnomalyPolicy", "Evaluator", "Hit", "Problem", "Rule",
    "RuleError", "RuleSet", "default_ruleset", "load_ruleset", "load_ruleset_file",
    "merge_actions",
]
