"""``orderhub route``: decide raw marketplace orders offline and explain each decision.

    orderhub route --channel douyin page.json --inventory stock.json --customers crm.json

FILE holds one raw order, a list of them or a whole API response page (as for
``orderhub parse``). ``--inventory`` is JSON ``{sku: available units}``; ``--customers``
is JSON ``{buyer_id: {"tier": "plus", "tags": ["new_first_order"]}}`` (what the CRM
knows beyond the marketplace); ``--rules`` a rule file (default: the shipped rule set).
Prints one decision per order as a JSON line with an ``explanation``; each quarantined
order's error goes to stderr and the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from hub.domain.decision import Decision
from hub.domain.order import Buyer, Order
from hub.domain.priority import Score
from hub.errors import OrderHubError


class InputError(OrderHubError):
    """A file given on the command line that cannot be used: names the file and why."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("route", help="decide raw orders (lane, packing group, holds) and "
                       "print one explained decision per order as JSON lines")
    p.add_argument("--channel", required=True, choices=("tmall", "jd", "douyin"))
    p.add_argument("file", metavar="FILE", help="raw order(s) or an API response page (JSON)")
    p.add_argument("--rules", metavar="FILE", help="rule file (default: the shipped rules)")
    p.add_argument("--inventory", metavar="FILE", help="JSON {sku: available units}")
    p.add_argument("--customers", metavar="FILE", help="JSON {buyer_id: {tier, tags}}")
    p.add_argument("--shop", default="", help="shop name when the payload carries none")
    p.set_defaults(func=run)


def _json(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            return orjson.loads(f.read())
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from None


def read_inventory(path: str) -> dict[str, int]:
    data = _json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object {{sku: available}}")
    for sku, units in data.items():
        if isinstance(units, bool) or not isinstance(units, int):
            raise InputError(f"{path}: {sku}: available units must be an integer, "
                             f"got {units!r:.40}")
    return data


def read_customers(path: str) -> dict[str, Buyer]:
    data = _json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object {{buyer_id: {{tier, tags}}}}")
    out = {}
    for buyer_id, info in data.items():
        if not isinstance(info, dict) or set(info) - {"tier", "tags"}:
            raise InputError(f"{path}: {buyer_id}: expected {{tier, tags}}, got {info!r:.60}")
        tier, tags = info.get("tier", "normal"), info.get("tags", [])
        if not isinstance(tier, str):
            raise InputError(f"{path}: {buyer_id}.tier: expected a string, got {tier!r:.40}")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InputError(f"{path}: {buyer_id}.tags: expected a list of strings")
        out[buyer_id] = Buyer(id=buyer_id, tier=tier, tags=tuple(tags))
    return out


def enrich(orders: list[Order], customers: Mapping[str, Buyer]) -> list[Order]:
    """Orders whose buyer the CRM knows, with its tier and tags (marketplace tags kept)."""
    out = []
    for order in orders:
        known = customers.get(order.buyer.id)
        if known is not None:
            tags = tuple(dict.fromkeys((*order.buyer.tags, *known.tags)))
            order = order.model_copy(update={"buyer": Buyer(id=known.id, tier=known.tier,
                                                             tags=tags)})
        out.append(order)
    return out


def explain(decision: Decision, score: Score, ruleset: Any) -> str:
    """Why the order went where it went, in one line for a person."""
    parts = [f"{dim} {label} {value:g}x{ruleset.weights[dim]:g}"
             for (dim, value), label in zip(score.breakdown.items(), score.labels, strict=True)]
    text = [f"score {decision.score:g} = " + " + ".join(parts) + f" -> lane {decision.lane}"]
    then = {rule.id: rule.then for rule in ruleset.rules}
    for rule_id in decision.rules_fired:
        acts = ", ".join(f"{k} {v}" for k, v in then.get(rule_id, {}).items())
        text.append(f"rule {rule_id} (v{ruleset.version}): {acts}")
    if not decision.rules_fired:
        text.append(f"no rule fired: packing group {decision.packing_group}")
    for a in decision.anomalies:
        text.append(f"anomaly {a.code} ({a.severity}, alert {a.group}): {a.detail}")
    text += [f"auto-remedied: {r}" for r in decision.remedies]
    text.append(f"held: {decision.hold_reason}" if decision.held else
                f"not held; delivery {decision.delivery}")
    return "; ".join(text)


def run(args: argparse.Namespace) -> int:
    from hub.domain.adapters import MarketplaceError, parse_any
    from hub.domain.priority import score_batch
    from hub.domain.routing import decide
    from hub.domain.rules import RuleError, default_ruleset, load_ruleset_file

    try:
        ruleset = load_ruleset_file(args.rules) if args.rules else default_ruleset()
        inventory = read_inventory(args.inventory) if args.inventory else {}
        customers = read_customers(args.customers) if args.customers else {}
        page = parse_any(args.channel, _json(args.file), args.shop)
    except RuleError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"orderhub route: {args.rules}: cannot read: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    except (InputError, MarketplaceError) as exc:
        print(f"orderhub route: {exc}", file=sys.stderr)
        return 1
    for bad in page.quarantined:
        order_id = f" (order {bad.error.order_id})" if bad.error.order_id else ""
        print(f"quarantined{order_id}: {bad.error}", file=sys.stderr)
    orders = enrich(page.orders, customers)
    out = sys.stdout.buffer
    scores = score_batch(orders, inventory, ruleset)
    for decision, score in zip(decide(orders, inventory, [], ruleset), scores, strict=True):
        row = decision.to_dict()
        row["explanation"] = explain(decision, score, ruleset)
        out.write(orjson.dumps(row) + b"\n")
    out.flush()
    return 1 if page.quarantined else 0
