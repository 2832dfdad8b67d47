"""``orderhub rules``: check a rule file before publishing it, or print the default one.

    orderhub rules check my-rules.yaml     # "ok: version 3, 5 rules" or FILE:LINE: reason
                                           # and FILE:LINE: warning: ... (conflicts)
    orderhub rules check --strict FILE     # exit 1 on warnings too
    orderhub rules default > my-rules.yaml # start from the shipped rule set

Publishing goes through the API's drafts (an author drafts, another person approves).
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="check a rule file, or print the default rule set")
    rules_sub = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check_p = rules_sub.add_parser(
        "check", help="check a rule file: prints `ok: version V, N rules` or one "
        "`FILE:LINE: reason` line per problem (exit 1)")
    check_p.add_argument("file", metavar="FILE", help="the rule file (YAML)")
    check_p.add_argument("--strict", action="store_true",
                         help="exit 1 when a rule can never fire or rules overlap (warnings)")
    check_p.set_defaults(func=check)
    default_p = rules_sub.add_parser("default", help="print the shipped default rule file")
    default_p.set_defaults(func=show_default)


def check(args: argparse.Namespace) -> int:
    from hub.domain.rules import RuleError, load_ruleset_file
    from hub.domain.rules.conflicts import conflicts

    try:
        ruleset = load_ruleset_file(args.file)
    except RuleError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    except OSError as exc:
        print(f"orderhub rules check: cannot read {args.file}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"ok: version {ruleset.version}, {len(ruleset.rules)} rules")
    warnings = conflicts(ruleset)
    for warning in warnings:
        print(f"{args.file}:{warning.line}: warning: {warning.reason}")
    return 1 if warnings and args.strict else 0


def show_default(args: argparse.Namespace) -> int:
    from hub.domain.rules import default_ruleset

    sys.stdout.write(default_ruleset().text)
    return 0
