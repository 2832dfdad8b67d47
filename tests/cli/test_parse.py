"""``orderhub parse``: JSON lines out, quarantined records and error envelopes on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import main
from hub.domain.order import Order
from sim.shapes import SHAPES
from tests.factories import order

SAMPLES = Path(__file__).parents[1] / "domain" / "samples"
ROOT = Path(__file__).parents[2]


def run(capsys, *argv: str) -> tuple[int, list[dict], list[str]]:
    code = main(["parse", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err.splitlines()


def test_page_with_a_bad_record_prints_the_good_ones_and_exits_1(capsys):
    code, orders, errors = run(capsys, "--channel", "tmall", str(SAMPLES / "tmall_page.json"))
    assert code == 1
    assert [o["order_id"] for o in orders][:2] == ["3961220384457195213", "3961220384457195214"]
    assert all(Order.model_validate(o).channel == "tmall" for o in orders)
    assert errors == ["quarantined: 3961220384457195217: [4].orders.order[1].num: "
                      "expected an integer, got 'two'"]


@pytest.mark.parametrize("channel", ["tmall", "jd", "douyin"])
def test_one_order_and_a_list_exit_0(capsys, tmp_path, channel):
    canonical = [order(n, channel=channel, shop="flagship") for n in (1, 2)]
    raws = [SHAPES[channel].to_raw(o) for o in canonical]
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text(json.dumps(raws[0], ensure_ascii=False), encoding="utf-8")
    many.write_text(json.dumps(raws, ensure_ascii=False), encoding="utf-8")
    code, orders, errors = run(capsys, "--channel", channel, str(one))
    assert (code, errors, [o["order_id"] for o in orders]) == (0, [], [canonical[0].order_id])
    code, orders, errors = run(capsys, "--channel", channel, "--shop", "outlet", str(many))
    assert code == 0 and errors == [] and len(orders) == 2
    assert {o["shop"] for o in orders} == {"outlet"}
    if channel != "douyin":  # Douyin's receiver stays masked without the decrypt answer
        assert [Order.model_validate(o) for o in orders] == [
            o.model_copy(update={"shop": "outlet"}) for o in canonical]


@pytest.mark.parametrize(("channel", "name", "expected"), [
    ("tmall", "tmall_throttled.json", "marketplace error (throttled): 7 "
     "accesscontrol.limited-by-app-access-count This ban will last for 1 more seconds"),
    ("jd", "jd_gateway_error.json", "marketplace error: 19 Invalid access_token"),
    ("douyin", "douyin_service_error.json",
     "marketplace error (retryable): 20000 isp.service-error:20005 系统繁忙，请稍后重试"),
])
def test_error_envelopes_exit_1(capsys, channel, name, expected):
    code, orders, errors = run(capsys, "--channel", channel, str(SAMPLES / name))
    assert (code, orders, errors) == (1, [], [expected])


def test_not_json_and_missing_file(capsys, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code, orders, errors = run(capsys, "--channel", "jd", str(broken))
    assert code == 1 and orders == [] and errors[0].startswith(f"error: {broken} is not JSON")
    code, _, errors = run(capsys, "--channel", "jd", str(tmp_path / "absent.json"))
    assert code == 1 and errors[0].startswith("error: cannot read")


def test_stdin_through_the_console_entry():
    raw = SHAPES["douyin"].to_raw(order(7, channel="douyin"))
    bad = dict(raw, order_id="D-BAD", create_time="yesterday", mask_post_tel=13812345678)
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "parse", "--channel", "douyin", "-"],
        input=json.dumps([raw, bad]).encode(), capture_output=True, cwd=ROOT, timeout=120,
        check=False)
    assert done.returncode == 1
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["order_id"] == raw["order_id"]
    err = done.stderr.decode()
    assert err == "quarantined: D-BAD: [1].create_time: expected an integer, got 'yesterday'\n"
    assert "5678" not in err  # never a phone on stderr
