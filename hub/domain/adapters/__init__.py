"""Marketplace adapters: one raw order (or a whole API page) -> canonical ``Order``.

>>> from hub.domain.adapters import parser_for
>>> parser_for("jd").__name__
'hub.domain.adapters.jd'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from hub.domain.adapters import douyin, jd, tmall
from hub.domain.adapters.common import MarketplaceError, Page, ParseError, Quarantined

ADAPTERS: dict[str, ModuleType] = {"tmall": tmall, "jd": jd, "douyin": douyin}
ENVELOPES = {"tmall": ("trades_sold_increment_get_response", "error_response"),
             "jd": ("jingdong_pop_order_search_responce", "error_response"),
             "douyin": ("code",)}


def parser_for(channel: str) -> ModuleType:
    try:
        return ADAPTERS[channel]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}; use one of {sorted(ADAPTERS)}") from None


def parse_any(channel: str, payload: Any, shop: str = "") -> Page:
    """One raw order, a list of them, or a whole response page -> ``Page``."""
    adapter = parser_for(channel)
    if isinstance(payload, Mapping) and any(k in payload for k in ENVELOPES[channel]):
        return adapter.parse_page(payload, shop)
    page = Page()
    for index, raw in enumerate(payload if isinstance(payload, list) else [payload]):
        try:
            page.orders.append(adapter.parse_order(raw, shop))
        except ParseError as exc:
            page.quarantined.append(Quarantined(raw, ParseError(
                f"[{index}].{exc.path}".rstrip("."), exc.reason, exc.order_id)))
    return page


__all__ = ["ADAPTERS", "MarketplaceError", "Page", "ParseError", "Quarantined", "parse_any",
           "parser_for"]
