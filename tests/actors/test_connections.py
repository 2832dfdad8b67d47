"""Actors build their clients through the Connections port the runtime hands them; one
that must build a client and was given none is refused when it is made, naming itself."""

from __future__ import annotations

import pytest

from hub.actors.puller import ChannelPuller
from hub.actors.reconciler import Reconciler
from hub.actors.relay import OutboxRelay
from hub.actors.router import Router
from hub.config import ChannelConfig, PoolConfig
from hub.connectors import Connections, CrmClient, TmallClient, WmsClient
from hub.domain.rules import default_ruleset
from hub.errors import OrderHubError

TMALL = ChannelConfig(channel="tmall", shop="flagship", base_url="http://127.0.0.1:9")


def test_the_real_connections_build_each_client_and_none_without_a_url() -> None:
    connect = Connections()
    assert isinstance(connect.marketplace(TMALL), TmallClient)
    assert isinstance(connect.wms("http://127.0.0.1:9"), WmsClient)
    assert isinstance(connect.crm("http://127.0.0.1:9"), CrmClient)
    assert connect.erp("") is None and connect.robot({"url": ""}) is None


def test_a_puller_with_neither_client_nor_connections_is_refused() -> None:
    with pytest.raises(OrderHubError, match="tmall/flagship puller"):
        ChannelPuller(TMALL, None, None)
    puller = ChannelPuller(TMALL, None, None, connections=Connections())
    assert isinstance(puller._client(), TmallClient)


def test_back_office_urls_without_connections_are_refused() -> None:
    rules = default_ruleset()
    with pytest.raises(OrderHubError, match="router"):
        Router(None, None, None, (rules.version, rules.text), PoolConfig(),
               crm_url="http://127.0.0.1:9")
    with pytest.raises(OrderHubError, match="outbox relay"):
        OutboxRelay(None, wms_url="http://127.0.0.1:9")
    with pytest.raises(OrderHubError, match="reconciler"):
        Reconciler(None, None, wms_url="http://127.0.0.1:9")
    relay = OutboxRelay(None, wms_url="http://127.0.0.1:9", connections=Connections())
    assert isinstance(relay.wms, WmsClient) and relay.erp is None
