"""Builds the hub's clients inside the process that uses them: an httpx client cannot
cross processes, so the composition root (``hub.runtime``) hands each actor a
:class:`Connections` (it pickles as nothing but its class) and the actor builds its
clients on first use. Actors know it only as the port ``hub.app.ports.Connections``.

>>> Connections().wms("") is None
True
"""

from __future__ import annotations

from typing import Any

from hub.connectors.crm import CrmClient
from hub.connectors.dingtalk import DingTalkRobot
from hub.connectors.erp import ErpClient
from hub.connectors.marketplace import MarketplaceClient, client_for
from hub.connectors.wms import WmsClient


class Connections:
    """One method a client; a back office with no URL configured has no client (None)."""

    def marketplace(self, config: Any) -> MarketplaceClient:
        """The client for a ``hub.config.ChannelConfig``."""
        return client_for(config)

    def crm(self, url: str) -> CrmClient | None:
        return CrmClient(url) if url else None

    def erp(self, url: str) -> ErpClient | None:
        return ErpClient(url) if url else None

    def wms(self, url: str) -> WmsClient | None:
        return WmsClient(url) if url else None

    def robot(self, settings: dict[str, Any]) -> DingTalkRobot | None:
        """``settings``: the DingTalk section with its secrets revealed (``url``,
        ``access_token``, ``secret``)."""
        if not settings.get("url"):
            return None
        return DingTalkRobot(settings["url"], settings["access_token"], settings["secret"])
