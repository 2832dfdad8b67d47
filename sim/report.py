"""The capacity report: ``summary.json`` and ``report.html`` (matplotlib plots inlined
as PNG, no asset from the internet) for the people who decide.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import itertools

import matplotlib.pyplot as plt
import numpy as np

CASE = [  # (what, old system, the case's new system, summary key path, unit)
    ("Order delay (mean)", "9 min", "42 s", ("latency_s", "all", "mean"), "s"),
    ("Abnormal-order detection", "2.1 h", "8 min", ("anomalies", "detection_latency_s", "mean"),
     "s"),
    ("Share needing a person", "34%", "7%", ("manual_ratio",), "%"),
    ("Orders lost", "some", "0", ("orders", "lost"), ""),
]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _cumulative(ax: Any, series: dict[str, list[float]], hours: float) -> None:
    for name, times in series.items():
        if times:
            xs = np.sort(np.asarray(times)) / 3600
            ax.step(xs, np.arange(1, len(xs) + 1), where="post", label=name)
    ax.set_xlabel("business hours since the window opened")
    ax.set_ylabel("orders")
    ax.set_xlim(0, max(hours, 1e-3))
    ax.legend()


def plots(series: dict[str, Any]) -> dict[str, str]:
    """PNG (base64) per plot from the measured series."""
    out: dict[str, str] = {}
    hours = series.get("window_hours", 1.0)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _cumulative(ax, {k: series.get(k, []) for k in ("released", "decided", "shipped")}, hours)
    ax.set_title("Orders released vs decided vs shipped")
    out["flow"] = _png(fig)

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for lane, points in sorted(series.get("latency_by_lane", {}).items()):
        if not points:
            continue
        at = np.asarray([p[0] for p in points]) / 3600
        lat = np.asarray([p[1] for p in points])
        edges = np.linspace(0, max(hours, 1e-3), 13)
        mids, p50, p99 = [], [], []
        for lo, hi in itertools.pairwise(edges):
            sel = lat[(at >= lo) & (at < hi)]
            if sel.size:
                mids.append((lo + hi) / 2)
                p50.append(np.percentile(sel, 50))
                p99.append(np.percentile(sel, 99))
        line = ax.plot(mids, p99, marker="o", label=f"{lane} p99")[0]
        ax.plot(mids, p50, linestyle="--", color=line.get_color(), label=f"{lane} p50")
    ax.set_title("Creation-to-decision latency per lane (business s)")
    ax.set_xlabel("business hours")
    ax.set_ylabel("seconds")
    ax.legend(ncol=4, fontsize=7)
    out["latency"] = _png(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    backlog = series.get("backlog", [])
    if backlog:
        ax.plot([b[0] / 3600 for b in backlog], [b[1] for b in backlog])
    ax.set_title("Backlog (orders received, not yet decided)")
    ax.set_xlabel("business hours")
    out["backlog"] = _png(fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    detection = series.get("detection_latency", [])
    if detection:
        ax.hist(detection, bins=30)
    ax.set_title("Abnormal-order detection time (business s)")
    ax.set_xlabel("seconds from creation to hold / alert")
    out["detection"] = _png(fig)
    return out


def _dig(data: dict, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "s":
        return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"
    return str(value)


def write_report(summary: dict[str, Any], series: dict[str, Any], out_dir: Path) -> Path:
    """Write ``summary.json`` and ``report.html`` into ``out_dir``; return the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    images = plots(series)
    rows = "".join(
        f"<tr><td>{html.escape(what)}</td><td>{old}</td><td>{new}</td>"
        f"<td><b>{_fmt(_dig(summary, path), unit)}</b></td></tr>"
        for what, old, new, path, unit in CASE)
    lanes = "".join(
        f"<tr><td>{lane}</td>" + "".join(f"<td>{_fmt(v.get(k), 's')}</td>"
                                         for k in ("mean", "p50", "p95", "p99", "max")) + "</tr>"
        for lane, v in summary.get("latency_s", {}).items())
    figures = "".join(f'<img alt="{name}" src="data:image/png;base64,{data}"><br>'
                      for name, data in images.items())
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>OrderHub rehearsal: {html.escape(str(summary.get('scenario')))}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 10px}}</style>
</head><body><h1>OrderHub rehearsal: {html.escape(str(summary.get('scenario')))}</h1>
<p>seed {summary.get('seed')}, speed-up {summary.get('speedup')}, window
{html.escape(str(summary.get('window')))}; {summary['orders']['generated']} orders generated,
{summary['orders']['decided']} decided, lost {summary['orders']['lost']},
duplicated {summary['orders']['duplicated']}.</p>
<h2>Beside the case</h2><table><tr><th></th><th>old system</th><th>case's new system</th>
<th>this run</th></tr>{rows}</table>
<h2>Latency per lane (business time, creation at the marketplace to decision)</h2>
<table><tr><th>lane</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>
{lanes}</table><h2>Plots</h2>{figures}
<h2>Summary</h2><pre>{html.escape(json.dumps(summary, indent=2, ensure_ascii=False))}</pre>
</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
