"""Signed pushes as the emulated marketplaces send them (``sim.emulators.push_signing``,
never the hub's code), for the intake endpoint's tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from hub.config import ChannelConfig
from hub.domain import Order
from sim.emulators.push_signing import envelope, signed

SHOP = "flagship"
APP_KEY, APP_SECRET = "demo-key", "demo-secret"  # the emulators' and the config's defaults


def channel_configs(*channels: str, base_url: str = "http://127.0.0.1:9",
                    **fields: Any) -> list[ChannelConfig]:
    """The hub's config of ``channels`` for shop ``flagship``: the push credentials."""
    return [ChannelConfig(channel=c, shop=SHOP, base_url=base_url, **fields) for c in channels]


def push_request(channel: str, items: Sequence[tuple[Order, dict]], *, shop: str = SHOP,
                 app_key: str = APP_KEY, app_secret: str = APP_SECRET,
                 now_s: float | None = None, sign_method: str = "md5",
                 body: bytes | None = None) -> dict[str, Any]:
    """Keyword arguments of ``client.post`` for a push of ``items`` ((order, raw record))
    signed by ``app_key``/``app_secret``; ``body``: sign this body instead."""
    now_s = time.time() if now_s is None else now_s
    if body is None:
        body = envelope(channel, items, now_s=now_s, app_key=app_key)
    params, headers = signed(channel, body, app_key=app_key, app_secret=app_secret,
                             now_s=now_s, query={"shop": shop} if shop else {},
                             sign_method=sign_method)
    return {"url": f"/push/{channel}", "params": params, "content": body,
            "headers": {"content-type": "application/json", **headers}}


def push(client: Any, channel: str, orders: Sequence[Order], state: Any, **kw: Any) -> Any:
    """POST ``orders`` (encoded as ``state``'s pull API serves them), signed."""
    return client.post(**push_request(channel, [(o, state.encode(o)) for o in orders], **kw))
