"""The report's plots (matplotlib, Agg), labelled in Chinese and English with a CJK font
from a package: Debian's ``fonts-wqy-microhei`` (``make setup`` and ``.ci/run``
install it), chosen by file path so that every machine draws with the same font, or the
file ``ORDERHUB_CJK_FONT`` names. PNGs carry no metadata (no software version, no
date): same figures, same bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager

from sim.capacity.params import CapacityError

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # fonts-noto-cjk
)
FONT_ENV = "ORDERHUB_CJK_FONT"
COLOURS = ("#8c8c8c", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")


def cjk_font() -> Path:
    """The CJK font file the plots use; CapacityError naming the package if none."""
    given = os.environ.get(FONT_ENV)
    for path in ([Path(given)] if given else []) + list(CJK_FONTS):
        if path.is_file():
            return path
    raise CapacityError("no CJK font for the plots' Chinese: install Debian's "
                        "fonts-wqy-microhei (`make setup` does), or set ORDERHUB_CJK_FONT "
                        "to a .ttf/.ttc/.otf file")


def style() -> dict[str, Any]:
    """rcParams that draw every label with the CJK font (registered once)."""
    path = cjk_font()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return {"font.family": [name], "axes.unicode_minus": False, "svg.hashsalt": "orderhub",
            "figure.dpi": 100}


def png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def bars(title: str, groups: Sequence[str], series: dict[str, Sequence[float | None]],
         ylabel: str = "") -> bytes:
    """Grouped bars: one group per label, one bar per series."""
    with plt.rc_context(style()):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        width = 0.8 / max(len(series), 1)
        for k, (name, values) in enumerate(series.items()):
            xs = [i + k * width for i in range(len(groups))]
            ax.bar(xs, [v if v is not None else 0 for v in values], width, label=name,
                   color=COLOURS[k % len(COLOURS)])
        ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(groups))])
        ax.set_xticklabels(groups, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.legend(fontsize=7, ncol=min(4, len(series)))
        fig.tight_layout()
        return png(fig)


def lines(title: str, xs: Sequence[float], series: dict[str, Sequence[float | None]],
          xlabel: str, ylabel: str, logx: bool = False, logy: bool = False) -> bytes:
    with plt.rc_context(style()):
        fig, ax = plt.subplots(figsize=(8, 3.6))
        for k, (name, values) in enumerate(series.items()):
            pts = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name,
                    color=COLOURS[k % len(COLOURS)])
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        return png(fig)
