"""Held orders become DingTalk messages: one message per responsible group lists
many orders, and no robot gets more than its per-minute allowance.

>>> limiter = MinuteLimit(2, now=lambda: 0.0)
>>> limiter.take(), limiter.take(), limiter.take()
(True, True, False)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any


class MinuteLimit:
    """At most ``per_minute`` takes in any sliding ``window_s`` of wall time: a little over
    the robot's 60 s, as a message reaches DingTalk some time after it was taken here and
    one counted inside DingTalk's minute earns a throttle for every message after it."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic,
                 window_s: float = 62.0) -> None:
        self.per_minute, self.window_s = per_minute, window_s
        self._now = now
        self._taken: deque[float] = deque()
        self.max_in_minute = 0

    def take(self) -> bool:
        now = self._now()
        while self._taken and now - self._taken[0] >= self.window_s:
            self._taken.popleft()
        if len(self._taken) >= self.per_minute:
            return False
        self._taken.append(now)
        self.max_in_minute = max(self.max_in_minute, len(self._taken))
        return True


class AlertPacer:
    """Alert rows wait here by group and go out as one message a group, the robot's
    allowance spread evenly: at most one message every ``window_s / per_minute`` seconds,
    the group holding the oldest row first. A surge then costs a few large messages, not
    many small ones each throttled. Rows wait in memory only: the outbox keeps them (their
    lease lapses and they are claimed again), so a restart loses none."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic,
                 window_s: float = 62.0) -> None:
        self.limit = MinuteLimit(per_minute, now, window_s)
        self.spacing_s = window_s / per_minute
        self._now = now
        self._last: float | None = None
        self.waiting: dict[str, dict[Any, Any]] = {}

    def add(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self.waiting.setdefault(row.payload.get("group", "ops"), {})[row.id] = row

    def next_message(self) -> tuple[str, list[Any]] | None:
        """The group and rows of the message to send now, if one may go."""
        if not self.waiting:
            return None
        now = self._now()
        if self._last is not None and now - self._last < self.spacing_s:
            return None
        if not self.limit.take():
            return None
        self._last = now
        group = min(self.waiting, key=lambda g: min(self.waiting[g]))
        return group, list(self.waiting.pop(group).values())

    def pending(self) -> int:
        return sum(len(rows) for rows in self.waiting.values())


MESSAGE_BYTES = 18_000  # DingTalk's robot takes 20,000 bytes a message; room for the JSON around

REASON_ZH = {
    "incomplete_address": "地址不完整", "remote_standard_express": "偏远地区普通快递",
    "out_of_stock_paid": "已付款缺货", "payment_mismatch": "支付金额异常",
    "duplicate_order": "疑似重复订单", "invalid_phone": "手机号无效",
    "reconcile_mismatch": "对账不一致", "rule_hold": "规则拦截",
    "intercept_too_late": "仓库已打包/发货，拦截不及",
}


def compose(group: str, alerts: Sequence[dict[str, Any]],
            max_bytes: int = MESSAGE_BYTES) -> tuple[str, str]:
    """One markdown message for a group: title and text, every order id that fits in
    ``max_bytes`` (the rest counted, to be found on the dashboard). Order ids only; no
    buyer data."""
    title = f"OrderHub 异常订单 {len(alerts)} 单 · {group}"
    lines = [f"### {title}", ""]
    size = sum(len(line.encode()) + 1 for line in lines)
    shown = 0
    for alert in alerts:
        reasons = "、".join(REASON_ZH.get(r, r) for r in alert.get("reasons") or
                           [alert.get("hold_reason") or ""])
        todo = f"；待办: {alert['todo']}" if alert.get("todo") else ""
        line = (f"- {alert['channel']} {alert['order_id']} ({alert.get('lane', '')}): "
                f"{reasons}{todo}")
        size += len(line.encode()) + 1
        if size > max_bytes:
            break
        lines.append(line)
        shown += 1
    if shown < len(alerts):
        lines.append(f"- …… 另有 {len(alerts) - shown} 单，请在看板查看")
    return title, "\n".join(lines)
