"""``orderhub status`` says which hub holds which shop when hubs share the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hub.cli import main
from hub.ledger import open_ledger


def test_status_shows_the_live_hubs_and_who_holds_each_shop(tmp_path, capsys) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    now = datetime.now(UTC)
    with open_ledger(path) as ledger:
        ledger.lease_acquire("tmall/flagship", "hub-a", 60, now)
        ledger.lease_acquire("hub/hub-a/tmall/flagship", "hub-a", 60, now)
        ledger.lease_acquire("jd/outlet", "hub-b", 15, now - timedelta(minutes=5))
    assert main(["status", "--ledger", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hubs"] == ["hub-a"]
    assert data["leases"]["tmall/flagship"]["holder"] == "hub-a"
    assert data["leases"]["tmall/flagship"]["epoch"] == 1
    assert data["leases"]["jd/outlet"]["holder"] is None  # ran out
    assert data["leases"]["jd/outlet"]["last_holder"] == "hub-b"
    assert "hub/hub-a/tmall/flagship" not in data["leases"]
    assert main(["status", "--ledger", path]) == 0
    text = capsys.readouterr().out
    assert "hubs:    hub-a" in text
    assert "tmall/flagship" in text and "hub-a (epoch 1" in text
    assert "nobody (last hub-b, epoch 1)" in text


def test_status_of_a_single_hub_without_leases_prints_no_lease_lines(tmp_path, capsys) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    open_ledger(path).close()
    assert main(["status", "--ledger", path]) == 0
    assert "hubs:" not in capsys.readouterr().out
