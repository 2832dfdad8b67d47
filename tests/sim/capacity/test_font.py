"""The plots' Chinese is drawn with a real CJK font: matplotlib's "Glyph missing"
warning is an error here."""

from __future__ import annotations

import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.capacity import plots

ZH = "准时发货率 打包员 客服 订单/天"


def test_a_chinese_plot_renders_without_a_missing_glyph() -> None:
    assert plots.cjk_font().is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = plots.bars(f"{ZH} on time", ["中台 hub", "旧流程 old"], {"准时 on time": [1.0, 0.9]})
    assert data.startswith(b"\x89PNG")


def test_without_the_cjk_font_the_same_text_warns() -> None:
    # the check above can fail: a font without CJK glyphs warns on the same text
    with plt.rc_context({"font.family": ["DejaVu Sans"]}), warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, ax = plt.subplots()
        ax.set_title(ZH)
        with pytest.raises(UserWarning, match=r"Glyph .* missing"):
            fig.canvas.draw()
        plt.close(fig)


def test_a_missing_font_is_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(plots.FONT_ENV, str(tmp_path / "none.ttc"))
    monkeypatch.setattr(plots, "CJK_FONTS", ())
    with pytest.raises(plots.CapacityError, match="fonts-wqy-microhei"):
        plots.cjk_font()
