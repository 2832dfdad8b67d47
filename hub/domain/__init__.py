"""The pure core of the hub: no Ray, no HTTP, no database, no clock of its own.

This root is the domain's public API: the types and the operations on batches of
orders. Shells, the harness (``sim``) and the benchmarks import from here; the modules
below are its parts:

- ``order``, ``decision``: the canonical order, what the hub decides, the ``Stage`` enum
- ``adapters``: a marketplace page -> ``Page`` of orders (``parse_any``)
- ``catalogue``: the merchant's SKUs and listings; an order's lines as merchant SKUs
- ``anomalies``, ``address``: the checks of an order (``find_anomalies``)
- ``priority``: a score and a lane per order (``score_batch``)
- ``rules``: the versioned rule language (``load_ruleset``)
- ``facts``, ``routing``: the facts rules see, and deciding a batch (``decide``, ``route``)
- ``outbox``: what a batch of decisions owes the WMS and DingTalk, and delivery retries
- ``lifecycle``, ``durations``: how an order's stage moves, and how long stages take
- ``order_codec``: an order as one flat tuple (how it pickles), and quick model building

>>> from hub.domain import Stage, decision_stage, moves
>>> decision_stage(hold_reason=None, remedies=()) is Stage.ROUTED, moves("shipped", "picked")
(True, False)
"""

# Each module imports what it needs by module path, never from this root, so the order
# of these imports is free (no cycle through the root).
from hub.domain.adapters import (
    ADAPTERS,
    MarketplaceError,
    Page,
    ParseError,
    Quarantined,
    parse_any,
    parser_for,
)
from hub.domain.address import check_address, divisions
from hub.domain.anomalies import find_anomalies
from hub.domain.catalogue import Catalogue, CatalogueRefused, catalogue, expand, expand_batch
from hub.domain.decision import Anomaly, Decision, Lane, Reason, Stage
from hub.domain.durations import stage_durations
from hub.domain.facts import order_facts
from hub.domain.lifecycle import decision_stage, moves
from hub.domain.order import (
    SHANGHAI,
    Amounts,
    Buyer,
    Channel,
    DeliveryService,
    Item,
    Order,
    OrderStatus,
    OrderType,
    Receiver,
    mask_phone,
    mask_text,
)
from hub.domain.order_codec import build as build_model  # a model from checked values
from hub.domain.order_codec import flatten, rebuild, with_buyer
from hub.domain.outbox import (
    DINGTALK,
    DISPATCH_DESTINATION,
    ERP,
    WMS,
    OutboxMessage,
    alert_payload,
    backoff_s,
    dispatch_payload,
    outbox_for,
)
from hub.domain.priority import Score, score_batch, score_order, stock_states
from hub.domain.priority import tables as priority_tables  # the rule set's score tables
from hub.domain.routing import decide, facts_for, route
from hub.domain.rules import (
    FACT_KINDS,
    AnomalyPolicy,
    Hit,
    Problem,
    Rule,
    RuleError,
    RuleSet,
    default_ruleset,
    load_ruleset,
    load_ruleset_file,
    merge_actions,
)

__all__ = [
    "ADAPTERS",
    "DINGTALK",
    "DISPATCH_DESTINATION",
    "ERP",
    "FACT_KINDS",
    "SHANGHAI",
    "WMS",
    "Amounts",
    "Anomaly",
    "AnomalyPolicy",
    "Buyer",
    "Catalogue",
    "CatalogueRefused",
    "Channel",
    "Decision",
    "DeliveryService",
    "Hit",
    "Item",
    "Lane",
    "MarketplaceError",
    "Order",
    "OrderStatus",
    "OrderType",
    "OutboxMessage",
    "Page",
    "ParseError",
    "Problem",
    "Quarantined",
    "Reason",
    "Receiver",
    "Rule",
    "RuleError",
    "RuleSet",
    "Score",
    "Stage",
    "alert_payload",
    "backoff_s",
    "build_model",
    "catalogue",
    "check_address",
    "decide",
    "decision_stage",
    "default_ruleset",
    "dispatch_payload",
    "divisions",
    "expand",
    "expand_batch",
    "facts_for",
    "find_anomalies",
    "flatten",
    "load_ruleset",
    "load_ruleset_file",
    "mask_phone",
    "mask_text",
    "merge_actions",
    "moves",
    "order_facts",
    "outbox_for",
    "parse_any",
    "parser_for",
    "priority_tables",
    "rebuild",
    "route",
    "score_batch",
    "score_order",
    "stage_durations",
    "stock_states",
    "with_buyer",
]
