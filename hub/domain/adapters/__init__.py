"""Marketplace adapters: one raw order (or a whole API page) -> canonical ``Order``.

Each of ``tmall``, ``jd`` and ``douyin`` has ``parse_order(raw, shop="")``,
``parse_page(payload, shop="", *, page_no=None, page_size=None)`` and
``parse_any(payload, shop="")`` (Douyin's also take ``decrypted``). Any JSON value gives
an ``Order`` (or a ``Page``) or a ``ParseError``; an error envelope raises
``MarketplaceError``.

>>> from hub.domain.adapters import parse_any
>>> page = parse_any("jd", [{"orderId": "7"}])
>>> len(page.orders), str(page.quarantined[0].error)
(0, '[0].orderState: unknown order state None')
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hub.domain.adapters import douyin, jd, tmall
from hub.domain.adapters.common import MarketplaceError, Page, ParseError, Quarantined

ADAPTERS: dict[str, ModuleType] = {"tmall": tmall, "jd": jd, "douyin": douyin}


def parser_for(channel: str) -> ModuleType:
    """The adapter module of ``channel``; ValueError for an unknown one."""
    try:
        return ADAPTERS[channel]
    except (KeyError, TypeError):
        raise ValueError(f"unknown channel {channel!r}; use one of {sorted(ADAPTERS)}") \
            from None


def parse_any(channel: str, payload: Any, shop: str = "") -> Page:
    """One raw order, a list of them, or a whole response page of ``channel`` -> ``Page``.
    Raises ``MarketplaceError`` for an error envelope, ``ParseError`` for a page whose
    envelope is malformed."""
    return parser_for(channel).parse_any(payload, shop)


__all__ = ["ADAPTERS", "MarketplaceError", "Page", "ParseError", "Quarantined", "parse_any",
           "parser_for"]
