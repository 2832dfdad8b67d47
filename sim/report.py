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

CASE = [  # (text key, old system, the case's new system, summary key path, unit)
    ("delayToWms", "9 min", "42 s", ("latency_to_wms_s", "all", "mean"), "s"),
    ("complaints", "5.6%", "1.2%", ("verdict", "complaint_risk"), "%"),
    ("detection", "2.1 h", "8 min", ("anomalies", "detection_delay_s", "mean"), "s"),
    ("manual", "34%", "7%", ("manual_ratio",), "%"),
    ("lost", "some", "0", ("verdict", "lost"), ""),
]
VERDICT = (  # (text key, summary key path, must be 0)
    ("lost", ("verdict", "lost"), True),
    ("shippedTwice", ("verdict", "shipped_twice"), True),
    ("avoidableCancel", ("verdict", "avoidable_shipped_after_cancel"), True),
    ("unavoidableCancel", ("verdict", "unavoidable_shipped_after_cancel"), False),
    ("staleAddress", ("verdict", "stale_address"), True),
    ("wrongItems", ("verdict", "wrong_items"), True),
    ("heldClean", ("verdict", "held_clean", "count"), False),
    ("alertsRefused", ("verdict", "alerts_refused"), False),
    ("late", ("verdict", "late", "count"), False),
    ("precision", ("anomalies", "precision"), False),
    ("recall", ("anomalies", "recall"), False),
    ("oddFlagged", ("anomalies", "hard_negatives", "flagged"), False),
)
TEXT = {
    "zh": {"title": "订单中台 · 大促演练报告", "screen": "一屏结论", "verdict": "仓库发出的结果",
           "figure": "指标", "thisRun": "本次(分通道)", "fifo": "先到先发(FIFO)",
           "oldSystem": "旧系统", "caseNew": "案例新系统", "besideCase": "对照案例",
           "delayToWms": "付款到仓库接单(平均)", "complaints": "投诉风险",
           "detection": "异常发现时间(平均)", "manual": "需人工处理比例", "lost": "丢单",
           "shippedTwice": "重复发货", "avoidableCancel": "取消后仍发货(可拦截)",
           "unavoidableCancel": "取消后仍发货(已打包)", "staleAddress": "发往旧地址",
           "wrongItems": "发错商品", "heldClean": "正常订单被挂起", "alertsRefused": "被拒告警",
           "late": "超时发货", "precision": "异常识别精确率", "recall": "异常识别召回率",
           "oddFlagged": "易误判正常订单被标记", "delays": "时延(业务秒)", "lane": "通道",
           "onTime": "准时发货率", "onTimeByLane": "各通道准时发货率",
           "left": "出库情况", "byType": "按订单类型", "plots": "图表",
           "raw": "原始汇总(summary.json)", "mustBeZero": "须为 0", "all": "全部",
           "strict": "严格口径", "notes": "说明", "lang": "English"},
    "en": {"title": "OrderHub · surge rehearsal", "screen": "On one screen",
           "verdict": "What left the warehouse", "figure": "figure",
           "thisRun": "this run (lanes)", "fifo": "first come, first served",
           "oldSystem": "old system", "caseNew": "case's new system", "besideCase":
           "Beside the case", "delayToWms": "Payment to WMS (mean)",
           "complaints": "Complaint risk", "detection": "Abnormal-order detection (mean)",
           "manual": "Share needing a person", "lost": "Orders lost",
           "shippedTwice": "Shipped twice", "avoidableCancel": "Shipped after cancel (avoidable)",
           "unavoidableCancel": "Shipped after cancel (after packing)",
           "staleAddress": "Shipped to a replaced address", "wrongItems": "Wrong items",
           "heldClean": "Clean orders held", "alertsRefused": "Alerts refused",
           "late": "Shipped late", "precision": "Anomaly precision", "recall": "Anomaly recall",
           "oddFlagged": "Odd but clean orders flagged", "delays": "Delays (business s)",
           "lane": "lane", "onTime": "on time", "onTimeByLane": "On-time shipping by lane",
           "left": "What left the warehouse", "byType": "By order type", "plots": "Plots",
           "raw": "Raw summary (summary.json)", "mustBeZero": "must be 0", "all": "all",
           "strict": "strict", "notes": "Notes", "lang": "中文"},
}


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


def _on_time(ax: Any, by_lane: dict[str, list], style: str, label: str) -> None:
    points = [p for v in by_lane.values() for p in v]
    if not points:
        return
    lo, hi = min(p[0] for p in points) / 3600, max(p[0] for p in points) / 3600
    edges = np.linspace(lo, max(hi, lo + 1e-3), 13)
    for n, (lane, lane_points) in enumerate(sorted(by_lane.items())):
        at = np.asarray([p[0] for p in lane_points]) / 3600
        ok = np.asarray([bool(p[1]) for p in lane_points], dtype=float)
        mids, shares = [], []
        for a, b in itertools.pairwise(edges):
            sel = ok[(at >= a) & ((at < b) | (b == edges[-1]) & (at <= b))]
            if sel.size:
                mids.append((a + b) / 2)
                shares.append(100 * sel.mean())
        ax.plot(mids, shares, style, marker="o", color=f"C{n}", label=f"{label}{lane}")


def plots(series: dict[str, Any]) -> dict[str, str]:
    """PNG (base64) per plot from the measured series."""
    out: dict[str, str] = {}
    hours = series.get("window_hours", 1.0)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _on_time(ax, series.get("shipping_by_lane", {}), "-", "")
    fifo = series.get("compare", {}).get("fifo", {})
    if fifo:
        _on_time(ax, {"": [p for v in fifo.get("shipping_by_lane", {}).values() for p in v]},
                 "--", "FIFO")
    ax.set_title("Shipped on time by lane (share of orders shipped or due in each slice)")
    ax.set_xlabel("business hour of the day (shipped, or judged late at the end)")
    ax.set_ylabel("% on time")
    ax.set_ylim(0, 105)
    if ax.lines:
        ax.legend(ncol=5, fontsize=7)
    out["on_time"] = _png(fig)
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
    ax.set_title("Creation-to-decision latency per lane (business s, the ledger's view)")
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
    ax.set_title("Time to decide on a planted anomaly (business s, the ledger's view)")
    ax.set_xlabel("seconds from creation to the decision")
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
        return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min" \
            if value < 7200 else f"{value / 3600:.1f} h"
    return str(value)


def _t(key: str) -> str:
    return f'<span data-i18n="{key}">{html.escape(TEXT["zh"][key])}</span>'


def _cell(value: Any, unit: str = "", bad: bool = False) -> str:
    style = ' class="bad"' if bad else ""
    return f"<td{style}><b>{html.escape(_fmt(value, unit))}</b></td>"


def _screen(summary: dict[str, Any], fifo: dict[str, Any] | None) -> str:
    """The manager's screen: the case beside this run, the verdict, on time by lane."""
    head = f"<th>{_t('thisRun')}</th>" + (f"<th>{_t('fifo')}</th>" if fifo else "")
    case = "".join(
        f"<tr><td>{_t(key)}</td><td>{old}</td><td>{new}</td>"
        + _cell(_dig(summary, path), unit)
        + (_cell(_dig(fifo, path), unit) if fifo else "") + "</tr>"
        for key, old, new, path, unit in CASE)
    verdict = "".join(
        f"<tr><td>{_t(key)}{' (' + _t('mustBeZero') + ')' if zero else ''}</td>"
        + _cell(_dig(summary, path), "", bool(zero and _dig(summary, path)))
        + (_cell(_dig(fifo, path), "", bool(zero and _dig(fifo, path))) if fifo else "")
        + "</tr>" for key, path, zero in VERDICT)
    lanes = sorted(set(_dig(summary, ("verdict", "on_time", "lane")) or {})
                   | set(_dig(fifo or {}, ("verdict", "on_time", "lane")) or {}))
    wms, strict = summary.get("latency_to_wms_s", {}), summary.get("latency_to_wms_strict_s", {})
    rows = []
    for lane in lanes:
        mine = _dig(summary, ("verdict", "on_time", "lane", lane)) or {}
        other = _dig(fifo or {}, ("verdict", "on_time", "lane", lane)) or {}
        delay = wms.get("all" if lane == "all" else "by_lane", {})
        delay = delay if lane == "all" else delay.get(lane, {})
        rows.append(f"<tr><td>{html.escape(lane)}</td>" + _cell(mine.get("share"), "%")
                    + (_cell(other.get("share"), "%") if fifo else "")
                    + "".join(_cell(delay.get(k), "s") for k in ("mean", "p99")) + "</tr>")
    return f"""<h2>{_t('besideCase')}</h2><table><tr><th></th><th>{_t('oldSystem')}</th>
<th>{_t('caseNew')}</th>{head}</tr>{case}</table>
<p class="muted">{_t('strict')}: {html.escape(_fmt(_dig(strict, ("all", "mean")), "s"))} /
p99 {html.escape(_fmt(_dig(strict, ("all", "p99")), "s"))}</p>
<h2>{_t('verdict')}</h2><table><tr><th>{_t('figure')}</th>{head}</tr>{verdict}</table>
<h2>{_t('onTimeByLane')}</h2><table><tr><th>{_t('lane')}</th><th>{_t('onTime')}</th>
{'<th>FIFO</th>' if fifo else ''}<th>mean</th><th>p99</th></tr>{''.join(rows)}</table>"""


def _by_type(summary: dict[str, Any], fifo: dict[str, Any] | None) -> str:
    kinds = _dig(summary, ("verdict", "on_time", "order_type")) or {}
    rows = "".join(
        f"<tr><td>{html.escape(kind)}</td>" + _cell(v.get("share"), "%")
        + f"<td>{v.get('on_time')}</td><td>{v.get('late')}</td><td>{v.get('pending')}</td>"
        + (_cell(_dig(fifo, ("verdict", "on_time", "order_type", kind, "share")), "%")
           if fifo else "") + "</tr>"
        for kind, v in kinds.items())
    return (f"<h3>{_t('byType')}</h3><table><tr><th></th><th>{_t('onTime')}</th><th>on time"
            f"</th><th>late</th><th>pending</th>{'<th>FIFO</th>' if fifo else ''}</tr>{rows}"
            "</table>")


SCRIPT = """<script>
const TEXT = %s;
let lang = localStorage.getItem("orderhub.lang") || "zh";
function show() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]"))
    el.textContent = TEXT[lang][el.dataset.i18n] ?? el.textContent;
}
document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("orderhub.lang", lang); show();
});
show();
</script>"""


def write_report(summary: dict[str, Any], series: dict[str, Any], out_dir: Path) -> Path:
    """Write ``summary.json`` and ``report.html`` into ``out_dir``; return the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    images = plots(series)
    fifo = _dig(summary, ("compare", "fifo"))
    name = html.escape(str(summary.get("scenario")))
    figures = "".join(f'<img alt="{n}" src="data:image/png;base64,{data}"><br>'
                      for n, data in images.items() if n != "on_time")
    v = summary.get("verdict", {})
    notes = [f"records: {summary.get('records', {}).get('source')}",
             f"promises: {summary.get('promises')}",
             f"followed to the end: {_dig(summary, ('follow', 'complete'))}"]
    notes += [f"missing: {m}" for m in summary.get("records", {}).get("missing", [])]
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>OrderHub rehearsal: {name}</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto}}
table{{border-collapse:collapse;margin-bottom:1em}}td,th{{border:1px solid #ccc;padding:4px 10px}}
td.bad{{background:#fdd}}.muted{{color:#666}}#lang{{float:right}}</style>
</head><body><button id="lang" type="button" data-i18n="lang">English</button>
<h1>{_t('title')}: {name}</h1>
<p class="muted">seed {summary.get('seed')}, speed-up {summary.get('speedup')}, window
{html.escape(str(summary.get('window')))}; {_dig(v, ('orders', 'generated'))} orders,
{_dig(v, ('orders', 'owed'))} owed, {_dig(v, ('orders', 'shipped'))} shipped;
complaint risk {_fmt(v.get('complaint_risk'), '%')} (case 5.6% -&gt; 1.2%).</p>
{_screen(summary, fifo)}
<h2>{_t('left')}</h2>
<img alt="on_time" src="data:image/png;base64,{images['on_time']}"><br>
{_by_type(summary, fifo)}
<h3>{_t('notes')}</h3><ul>{''.join(f'<li>{html.escape(n)}</li>' for n in notes)}</ul>
<h2>{_t('plots')}</h2>{figures}
<details><summary>{_t('raw')}</summary>
<pre>{html.escape(json.dumps(summary, indent=2, ensure_ascii=False))}</pre></details>
{SCRIPT % json.dumps(TEXT, ensure_ascii=False)}
</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
