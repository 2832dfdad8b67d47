"""The package roots are the public API: every name they list resolves, and the domain's
errors sit under the hub's one root error."""

import importlib

import pytest

from hub.errors import OrderHubError


@pytest.mark.parametrize("root", ["hub.domain", "hub.domain.adapters", "hub.domain.rules",
                                  "hub.connectors", "hub.ledger"])
def test_every_name_a_root_lists_resolves(root: str) -> None:
    module = importlib.import_module(root)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []
    assert len(set(module.__all__)) == len(module.__all__)


def test_the_domain_root_exports_operations_as_well_as_types() -> None:
    import hub.domain as domain

    for name in ("parse_any", "find_anomalies", "score_batch", "load_ruleset", "decide",
                 "outbox_for", "dispatch_payload", "moves", "decision_stage", "backoff_s"):
        assert callable(getattr(domain, name)), name


def test_domain_errors_derive_from_the_hub_root_error() -> None:
    from hub.domain import MarketplaceError, ParseError, RuleError

    for error in (MarketplaceError, ParseError, RuleError):
        assert issubclass(error, OrderHubError), error
    assert issubclass(ParseError, ValueError)  # callers catch a bad record as a ValueError
    with pytest.raises(OrderHubError, match="status: unknown trade status"):
        importlib.import_module("hub.domain.adapters.tmall").parse_order(
            {"tid": 1, "status": "x"})
