"""The rules panel's check in headless Chromium (the API over a seeded ledger, no Ray): a
rule file typed in the YAML view opens as blocks; a rule that can never fire (a broader
rule above it under the `first` hit policy) is flagged with its line and its block
outlined; a broken file is answered line by line and the blocks stay as they were."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from hub.api.app import create_app
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.domain.rules import default_ruleset
from hub.ledger import open_ledger
from sim.emulators.server import LoopbackServer
from tests.api.seed import seed
from tests.browser.cdp import Browser, find_chromium
from tests.browser.test_rule_builder import _builder_api

TOKEN = "checks-token"
pytestmark = [
    pytest.mark.skipif(find_chromium() is None,
                       reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not _builder_api(),
                       reason="the rule builder's API (issue #22, branch rules-backend) is "
                              "not merged"),
]
SHADOWED = """
  - id: douyin-live-same-city
    precedence: 15
    when: {all: [{field: channel, eq: douyin}, {field: source, eq: live_room},
                 {field: buyer.tags, contains: new_first_order},
                 {field: delivery, eq: same_city}]}
    then: {packing_group: same-city}
"""


@pytest.fixture
def served(tmp_path):
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    seeded = seed(ledger)
    app = create_app(ledger, writer=ledger,
                     rules=RuleConsole(ledger, ledger, clock=seeded.clock),
                     api=ApiConfig(token=SecretStr(f"carol:{TOKEN}")), clock=seeded.clock)
    with LoopbackServer(app, name="rule-checks") as server:
        yield server
    ledger.close()


def test_a_shadowed_rule_is_flagged_on_its_line_and_block(served, tmp_path):
    text = default_ruleset().text.replace("\n  # PLUS / SVIP", SHADOWED + "\n  # PLUS / SVIP")
    text = text.replace("\nversion: 1\n", "\nversion: 2\n")
    line = text.splitlines().index("  - id: douyin-live-same-city") + 1
    with Browser.start(tmp_path / "profile") as browser:
        page = browser.new_page(width=1400, height=1600)
        page.navigate(served.url + "/")
        page.wait_for("document.querySelector('#rule-text')?.value.startsWith('#')", 30)
        page.fill("#token", TOKEN)
        page.wait_for("document.querySelectorAll('.rb-rule').length === 2", 30)

        page.fill("#rule-text", text)  # typed YAML opens as blocks
        page.wait_for("document.querySelectorAll('.rb-rule').length === 3", 30)
        page.click("#rule-check")
        page.wait_for("document.querySelector('#rule-out .warnings li') !== null", 30)
        mine = f"#rule-out .warnings li[data-line='{line}']"
        assert page.evaluate(f"document.querySelector(\"{mine}\") !== null"), \
            page.text("#rule-out")
        flagged = page.evaluate("[...document.querySelectorAll('.rb-rule.rb-flag-warn')]"
                                ".map(r => r.querySelector('.rb-id').value)")
        assert "douyin-live-same-city" in flagged, flagged
        assert page.evaluate("document.querySelector('#rule-out .problems')") is None
        page.click(mine)  # the YAML view selects that line
        selected = page.evaluate("(() => { const a = document.querySelector('#rule-text');"
                                 " return a.value.slice(a.selectionStart, a.selectionEnd); })()")
        assert selected == "  - id: douyin-live-same-city", selected
        page.screenshot(tmp_path / "rule-check-warning.png")

        page.fill("#rule-text", "version: 2\nname: x\nlanes: {P0: 10, P1: 60, P2: 40}\n")
        page.wait_for("document.querySelector('#rb-sync').className === 'err-msg'", 30)
        assert page.evaluate("document.querySelectorAll('.rb-rule').length") == 3
        page.click("#rule-check")
        page.wait_for("document.querySelector('#rule-out .problems li') !== null", 30)
        assert page.text("#rule-out .problems li").startswith("<upload>:3: ")
