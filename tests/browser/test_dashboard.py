"""The dashboard in headless Chromium, served for real over HTTP on loopback: search an
order and see its stage and tracking number, release a held order, switch to English,
and save a screenshot under the test's tmp folder."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from hub.api.app import create_app
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.ledger import open_ledger
from sim.emulators.server import LoopbackServer
from tests.api.seed import PHONES, TRACKING, seed
from tests.browser.cdp import Browser, find_chromium

TOKEN = "browser-token"

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)")


@pytest.fixture
def served(tmp_path):
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    seeded = seed(ledger)
    admin = RuleConsole(ledger, ledger, clock=seeded.clock)
    app = create_app(ledger, writer=ledger, rules=admin,
                     api=ApiConfig(token=SecretStr(f"carol:{TOKEN}")), clock=seeded.clock)
    with LoopbackServer(app, name="dashboard") as server:
        yield server, seeded
    ledger.close()


def test_operator_finds_an_order_and_releases_a_held_one(served, tmp_path):
    server, seeded = served
    shipped, held = seeded.orders["shipped"], seeded.orders["held"]
    with Browser.start(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.navigate(server.url + "/")
        page.wait_for("document.querySelectorAll('#lanes .lane').length === 4")
        assert page.text("h1") == "订单中台 · 运营看板"  # Chinese by default

        page.fill("#q", shipped.order_id)
        page.evaluate("document.querySelector('#search-form').requestSubmit()")
        page.wait_for("document.querySelector('#results .order .stage') !== null")
        assert page.evaluate("document.querySelector('#results .stage').dataset.stage") \
            == "shipped"
        assert page.text("#results .stage") == "已发货"
        assert page.text("#results .tracking") == TRACKING
        body = page.evaluate("document.body.innerText")
        assert PHONES["shipped"] not in body and "文三路100号" not in body
        assert "*******1111" in body

        row = f"#held tbody tr[data-order-id='{held.order_id}']"
        page.wait_for(f"document.querySelector(\"{row}\") !== null")
        page.fill("#token", TOKEN)
        page.fill("#action-note", "地址已电话确认")
        page.click(f"{row} .act-release")
        page.wait_for(f"document.querySelector(\"{row}\") === null")
        page.wait_for(f"document.querySelector('#action-msg').textContent.includes("
                      f"'{held.order_id}')")
        page.screenshot(tmp_path / "dashboard-zh.png")

        # the rule console loads the rules in force; a broken file is answered line by line
        page.wait_for("document.querySelector('#rule-text').value.startsWith('#')")
        page.click("#rule-check")
        page.wait_for("document.querySelector('#rule-out .ok-msg') !== null")
        page.fill("#rule-text", "version: 2\nname: x\nlanes: {P0: 10, P1: 60, P2: 40}\n")
        page.click("#rule-check")
        page.wait_for("document.querySelector('#rule-out .problems li') !== null")
        assert page.text("#rule-out .problems li").startswith("<upload>:3: ")

        page.click("#lang")
        page.wait_for("document.querySelector('h1').textContent === 'OrderHub · Operations'")
        page.wait_for("document.querySelector('#results .stage').textContent === 'shipped'")
        assert "[object Object]" not in page.evaluate("document.body.innerText")
        shot = page.screenshot(tmp_path / "dashboard.png")

    view = seeded.ledger.get_order(held.key)
    assert view.stage == "released"
    assert (view.timeline[-1].detail["by"], view.timeline[-1].detail["note"]) == (
        "carol", "地址已电话确认")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
