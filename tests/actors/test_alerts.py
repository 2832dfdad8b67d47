"""What an alert message holds and how fast alerts may go out."""

from __future__ import annotations

from types import SimpleNamespace

from hub.actors.alerts import MESSAGE_BYTES, AlertPacer, MinuteLimit, compose


def _alert(n: int) -> dict:
    return {"channel": "douyin", "order_id": f"69261111011000{n:05d}", "lane": "P2",
            "reasons": ["incomplete_address"]}


def test_every_order_id_that_fits_is_listed_and_the_rest_counted() -> None:
    title, text = compose("cs-address", [_alert(n) for n in range(50)])
    assert "50 单" in title
    assert all(f"69261111011000{n:05d}" in text for n in range(50))
    assert "另有" not in text
    title, text = compose("cs-address", [_alert(n) for n in range(2000)])
    assert len(text.encode()) <= MESSAGE_BYTES
    listed = sum(f"69261111011000{n:05d}" in text for n in range(2000))
    assert 100 < listed < 2000
    assert f"另有 {2000 - listed} 单" in text


def test_the_limit_keeps_a_margin_over_the_robots_minute() -> None:
    clock = [0.0]
    limit = MinuteLimit(20, now=lambda: clock[0])
    assert all(limit.take() for _ in range(20))
    assert not limit.take()
    clock[0] = 60.5  # DingTalk's own minute may not have turned yet for a late arrival
    assert not limit.take()
    clock[0] = 62.0
    assert limit.take()


def _row(n: int, group: str) -> SimpleNamespace:
    return SimpleNamespace(id=n, payload={"group": group})


def test_the_pacer_sends_one_message_a_group_spaced_within_the_allowance() -> None:
    clock = [0.0]
    pacer = AlertPacer(20, now=lambda: clock[0])  # one message every 3.1 s at most
    pacer.add([_row(1, "supply"), _row(2, "finance"), _row(3, "supply")])
    group, rows = pacer.next_message()
    assert group == "supply" and [r.id for r in rows] == [1, 3]  # the oldest row's group
    assert pacer.next_message() is None  # too soon after the last message
    pacer.add([_row(3, "supply"), _row(4, "finance")])  # row 3 claimed again: once
    clock[0] = 3.2
    group, rows = pacer.next_message()
    assert group == "finance" and [r.id for r in rows] == [2, 4]
    clock[0] = 6.4
    assert [r.id for r in pacer.next_message()[1]] == [3]
    sent = 3
    for _ in range(40):  # never more than 20 in the robot's minute
        clock[0] += 3.1
        pacer.add([_row(100 + sent, "ops")])
        sent += pacer.next_message() is not None
    assert pacer.limit.max_in_minute <= 20
