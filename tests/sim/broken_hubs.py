"""Hubs broken on purpose, for the rehearsal's "every figure can fail" test only: each
replaces one actor class of ``hub.runtime`` while the hub starts. The faults live here,
never in the hub.

- ``resends_dispatch``: every dispatch is sent a second time under a new key
- ``misses_incomplete_address``: the validators drop one anomaly code
- ``ignores_rate_limit``: one DingTalk message per held order, no per-minute limit
- ``ignores_cancellations``: the pullers drop every cancelled version
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import Any
from unittest import mock

import hub.runtime as runtime
from hub.actors.alerts import MinuteLimit, compose
from hub.actors.puller import ChannelPuller
from hub.actors.pullers import ShopPullers
from hub.actors.relay import OutboxRelay
from hub.actors.workers import Validator
from hub.errors import OrderHubError
from hub.runtime import Hub


class ResendingRelay(OutboxRelay):
    async def _dispatch(self, rows: list) -> None:
        await super()._dispatch(rows)
        if rows and self.wms is not None:
            await self.wms.dispatch_each([{**r.payload, "key": f"{r.key}:again"} for r in rows])


class BlindValidator(Validator):
    MISSED = "incomplete_address"

    def check(self, *args: Any, **kwargs: Any) -> list[list[Any]]:
        found = super().check(*args, **kwargs)
        return [[a for a in anomalies if a.code != self.MISSED] for anomalies in found]


class ChattyRelay(OutboxRelay):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = MinuteLimit(10**6)

    async def _alert(self, rows: list) -> None:
        for row in rows:  # one message an order, as fast as they come
            title, text = compose(row.payload.get("group", "ops"), [row.payload])
            with suppress(OrderHubError):  # the robot refuses: the point of the test
                await self.robot.send_markdown(title, text)
            await self._delivered([row])


class DeafPuller(ChannelPuller):
    """Never passes on the cancellation of an order it passed on before (an order first
    seen cancelled still goes in, so the run can count it decided and end)."""

    async def _take_in(self, orders: list, bad: list, cursor: Any, at: Any) -> None:
        seen = self.__dict__.setdefault("_passed_on", set())
        kept = [o for o in orders if not (o.status.value == "cancelled" and o.key in seen)]
        seen.update(o.key for o in kept)
        await super()._take_in(kept, bad, cursor, at)


class DeafPullers(ShopPullers):
    puller_class = DeafPuller


class BrokenHub(Hub):
    """A hub whose actors named in ``replaced`` (a ``hub.runtime`` name -> a class) are
    the broken ones."""

    replaced: dict[str, type] = {}

    def start(self, *args: Any, **kwargs: Any) -> Hub:
        with ExitStack() as stack:
            for name, cls in self.replaced.items():
                stack.enter_context(mock.patch.object(runtime, name, cls))
            return super().start(*args, **kwargs)


def broken(name: str, **replaced: type) -> type[Hub]:
    return type(name, (BrokenHub,), {"replaced": replaced})


HUBS = {
    "resends_dispatch": broken("ResendingHub", OutboxRelay=ResendingRelay),
    "misses_incomplete_address": broken("BlindHub", Validator=BlindValidator),
    "ignores_rate_limit": broken("ChattyHub", OutboxRelay=ChattyRelay),
    "ignores_cancellations": broken("DeafHub", ShopPullers=DeafPullers),
}
