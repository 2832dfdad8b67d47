"""``orderhub route`` on raw marketplace pages: explained decisions, quarantine, enrichment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from hub.cli import main
from hub.domain.order import Buyer, Receiver
from sim.shapes import SHAPES
from tests.factories import order

XINJIANG = Receiver(name="李四", phone="13900001111", province="新疆维吾尔自治区",
                    city="乌鲁木齐市", district="天山区", street="解放路", detail="100号3单元")


def sample(channel: str) -> list:
    return [
        order(1, channel=channel, order_type="live_flash", source="live_room",
              source_detail="88", buyer=Buyer(id="u1")),
        order(2, channel=channel, delivery="same_city", buyer=Buyer(id="u2")),
        order(3, channel=channel, buyer=Buyer(id="u3"), receiver=XINJIANG),
    ]


def write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(data))
    return str(path)


def page_file(tmp_path: Path, channel: str, extra_raw=()) -> str:
    shape = SHAPES[channel]
    raws = [shape.to_raw(o) for o in sample(channel)] + list(extra_raw)
    return write(tmp_path, f"{channel}.json", shape.page(raws, page_no=1, page_size=50,
                                                          total=len(raws), has_next=False))


def route(capsys, *argv: str) -> tuple[int, list[dict], str]:
    code = main(["route", *argv])
    out, err = capsys.readouterr()
    return code, [orjson.loads(line) for line in out.splitlines()], err


@pytest.mark.parametrize("channel", ["tmall", "jd", "douyin"])
def test_route_prints_one_explained_decision_per_order(tmp_path, capsys, channel):
    code, rows, err = route(capsys, "--channel", channel, page_file(tmp_path, channel))
    assert code == 0 and err == ""
    assert [r["order_id"] for r in rows] == [o.order_id for o in sample(channel)]
    remote = rows[2]
    assert remote["delivery"] == "express" and remote["hold_reason"] is None
    assert remote["remedies"] and remote["extra"]["stage"] == "auto_remedied"
    assert "auto-remedied" in remote["explanation"]
    assert "remote_standard_express" in remote["explanation"]
    for row in rows:
        assert row["explanation"].startswith(f"score {row['score']:g} = order_type ")
        assert f"lane {row['lane']}" in row["explanation"]
        assert row["ruleset_version"] == 1


def test_customers_and_inventory_files_change_the_decisions(tmp_path, capsys):
    page = page_file(tmp_path, "douyin")
    crm = write(tmp_path, "crm.json", {"u1": {"tier": "vip", "tags": ["new_first_order"]},
                                       "u2": {"tier": "plus"}})
    _, plain, _ = route(capsys, "--channel", "douyin", page)
    code, rows, _ = route(capsys, "--channel", "douyin", page, "--customers", crm,
                          "--inventory", write(tmp_path, "inv.json", {"SKU-1": 3}))
    assert code == 0
    assert plain[0]["packing_group"] == "lane-" + plain[0]["lane"]
    assert rows[0]["packing_group"] == "live-new-buyer"
    assert rows[0]["rules_fired"] == ["douyin-live-new-buyer"]
    assert "rule douyin-live-new-buyer" in rows[0]["explanation"]
    assert "inventory low 100x0.1" in rows[0]["explanation"]  # 3 left < low_stock 20
    assert (rows[1]["lane"], rows[1]["packing_group"]) == ("P0", "same-city")
    assert plain[1]["packing_group"] != "same-city"


def test_quarantined_orders_go_to_stderr_and_exit_1(tmp_path, capsys):
    broken = SHAPES["jd"].to_raw(order(9, channel="jd"))
    broken["orderId"] = "BROKEN-9"
    del broken["orderStartTime"]
    code, rows, err = route(capsys, "--channel", "jd", page_file(tmp_path, "jd", [broken]))
    assert code == 1
    assert len(rows) == 3
    assert "BROKEN-9" in err and "orderStartTime" in err


def test_a_rule_file_is_used_and_its_version_reported(tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 4\nname: t\nrules:\n  - id: all-jd\n    precedence: 1\n"
                     "    when: {field: channel, eq: jd}\n    then: {packing_group: jd-bench}\n",
                     encoding="utf-8")
    code, rows, _ = route(capsys, "--channel", "jd", page_file(tmp_path, "jd"), "--rules",
                          str(rules))
    assert code == 0
    assert {r["packing_group"] for r in rows} == {"jd-bench"}
    assert {r["ruleset_version"] for r in rows} == {4}


@pytest.mark.parametrize(("flag", "content", "message"), [
    ("--inventory", {"SKU-1": "many"}, "SKU-1: available units must be an integer"),
    ("--customers", {"u1": {"tier": 3}}, "u1.tier: expected a string"),
    ("--customers", {"u1": {"tier": "vip", "level": 2}}, "u1: expected {tier, tags}"),
    ("--customers", [1, 2], "expected an object"),
])
def test_bad_side_files_name_the_entry_and_the_reason(tmp_path, capsys, flag, content, message):
    side = write(tmp_path, "side.json", content)
    code, rows, err = route(capsys, "--channel", "tmall", page_file(tmp_path, "tmall"), flag,
                            side)
    assert code == 1 and rows == []
    assert message in err and side in err


def test_unreadable_or_non_json_input(tmp_path, capsys):
    code, _, err = route(capsys, "--channel", "tmall", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = route(capsys, "--channel", "tmall", str(bad))
    assert code == 1 and "not JSON" in err


def test_the_installed_command_prints_only_json_lines(tmp_path):
    """jionlp prints a banner when imported: it must not reach stdout."""
    done = subprocess.run([sys.executable, "-m", "hub.cli", "route", "--channel", "tmall",
                           page_file(tmp_path, "tmall")], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 3
    assert all(orjson.loads(line)["channel"] == "tmall" for line in lines)
