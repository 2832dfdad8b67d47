"""What an alert message holds and how fast alerts may go out."""

from __future__ import annotations

from hub.actors.alerts import MESSAGE_BYTES, MinuteLimit, compose


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
