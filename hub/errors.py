"""The root of every error the hub raises on purpose.

Each layer keeps its own errors beside its code (``hub.ledger.LedgerError``,
``hub.connectors`` client errors, ``hub.domain.rules.RuleError``, ...); all of them
derive from :class:`OrderHubError`, so a shell that must not die on one bad input
catches that and nothing broader.

>>> issubclass(OrderHubError, Exception)
True
"""

from __future__ import annotations


class OrderHubError(Exception):
    """Something the hub refused or could not do; the message says what and why."""
