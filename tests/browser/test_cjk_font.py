"""The dashboard's Chinese is drawn with a CJK font, not as empty boxes: Chromium says
which platform font drew the heading's glyphs (CSS.getPlatformFontsForNode). The test
relies on Debian's fonts-wqy-microhei (WenQuanYi Micro Hei), which `make setup` and
.ci/run install; without a CJK font Chromium falls back to a font with no Chinese glyphs
and shows boxes, and this test fails."""

from __future__ import annotations

import pytest

from tests.browser.cdp import Browser, find_chromium
from tests.browser.test_dashboard import served  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)")

CJK_FAMILIES = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK")


def test_the_dashboard_heading_is_drawn_with_a_cjk_font(served, tmp_path):  # noqa: F811
    server, _seeded = served
    with Browser.start(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.navigate(server.url + "/")
        page.wait_for("document.querySelectorAll('#lanes .lane').length === 4")
        heading = page.text("h1")
        assert heading == "订单中台 · 运营看板"
        page.call("DOM.enable")
        page.call("CSS.enable")
        root = page.call("DOM.getDocument")["root"]["nodeId"]
        node = page.call("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
        fonts = page.call("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        page.screenshot(tmp_path / "dashboard-zh.png")
    cjk = [f for f in fonts if f["familyName"].startswith(CJK_FAMILIES)]
    chinese = sum(1 for ch in heading if "\u4e00" <= ch <= "\u9fff")
    assert cjk, f"no CJK font drew the heading: {fonts}"
    assert sum(f["glyphCount"] for f in cjk) >= chinese, fonts
