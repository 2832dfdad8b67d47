"""Back-office clients built inside an actor (an httpx client cannot cross processes)."""

from __future__ import annotations

from typing import Any


def crm(url: str) -> Any:
    if not url:
        return None
    from hub.connectors.crm import CrmClient

    return CrmClient(url)


def erp(url: str) -> Any:
    if not url:
        return None
    from hub.connectors.erp import ErpClient

    return ErpClient(url)


def wms(url: str) -> Any:
    if not url:
        return None
    from hub.connectors.wms import WmsClient

    return WmsClient(url)


def robot(settings: dict[str, Any]) -> Any:
    if not settings.get("url"):
        return None
    from hub.connectors.dingtalk import DingTalkRobot

    return DingTalkRobot(settings["url"], settings["access_token"], settings["secret"])
