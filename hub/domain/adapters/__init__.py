"""Marketplace adapters: one raw order (or a whole API page) -> canonical ``Order``.

Each of ``tmall``, ``jd`` and ``douyin`` has ``parse_order(raw, shop="")``,
``parse_page(payload, shop="", *, page_no=None, page_size=None)`` and
``parse_any(payload, shop="")`` (Douyin's also take ``decrypted``). Any JSON value gives
an ``Order`` (or a ``Page``) or a ``ParseError``; an error envelope raises
``MarketplaceError``.

Each marketplace has two modules. ``tmall`` (``jd``, ``douyin``) is the adapter: it
says what every field means, is what callers use, and names the field of any record it
refuses. ``tmall_fast`` (``jd_fast``, ``douyin_fast``) is its fast path, reached only
through the adapter's ``decode``: a msgspec decode of the fields the adapter reads, for
a page of the usual shape, giving the same ``Page`` (tests compare both ways); anything
unusual goes back to the adapter. ``fast_path`` holds what the three fast paths share,
``common`` what the three adapters share.

>>> from hub.domain.adapters import parse_any
>>> page = parse_any("jd", [{"orderId": "7"}])
>>> len(page.orders), str(page.quarantined[0].error)
(0, '[0].orderState: unknown order state None')
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hub.domain.adapters import douyin, jd, tmall
from hub.domain.adapters.common import MarketplaceError, Page, ParseError, Quarantined, remember

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
           "parser_for", "remember"]
