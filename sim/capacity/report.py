"""``capacity.html`` (Chinese and English, a button switches; a one-page summary first,
then the calibration, the model against the live rehearsal, the sweeps) with the plots
inlined as PNG data, and the same plots as PNG files beside it."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from sim.capacity import plots

NAMES = {  # figure -> (zh, en, unit)
    "sync_delay_s": ("订单同步/到仓延迟(平均)", "order sync / delay to WMS (mean)", "s"),
    "detection_s": ("异常发现时间(平均)", "anomaly found after (mean)", "s"),
    "person_share": ("需人工处理比例", "share needing a person", "%"),
    "complaint_rate": ("投诉率", "complaint rate", "%"),
    "delay_to_wms_mean_s": ("到仓延迟 平均", "delay to WMS, mean", "s"),
    "delay_to_wms_p99_s": ("到仓延迟 p99", "delay to WMS, p99", "s"),
    "p0_on_time_share": ("P0 准时率", "P0 on time", "%"),
    "on_time_share_all": ("全部准时率", "all on time", "%"),
    "p1_on_time_share": ("P1 准时率", "P1 on time", "%"),
    "p2_on_time_share": ("P2 准时率", "P2 on time", "%"),
    "p3_on_time_share": ("P3 准时率", "P3 on time", "%"),
    "p0_share_of_orders": ("P0 订单占比", "P0 share of orders", "%"),
}
PARAMS = {  # fitted parameter -> (zh, en, what plausible means: zh, en)
    "export_interval_s": ("批量导出间隔", "batch export interval",
                          "2-30 分钟: 案例所说的“每隔几分钟”",
                          "2-30 min: the case's 'every few minutes'"),
    "patrol_interval_s": ("人工巡检间隔", "patrol interval",
                          "0.5-4 小时: 六个系统巡一轮, 每班至少两轮",
                          "0.5-4 h: one round of six systems, at least twice a shift"),
    "expedite_share": ("加急单人工催办比例", "urgent orders pushed by hand",
                       "加急单与同城单的 0-100%", "0-100% of the urgent and same-city orders"),
    "complain_share": ("问题件投诉系数", "flawed shipments complained about",
                       "sets/buyers.toml 中比例的 10-100%",
                       "10-100% of the shares in sets/buyers.toml"),
}


def t(zh: str, en: str) -> str:
    return f'<span lang="zh">{html.escape(zh)}</span><span lang="en">{html.escape(en)}</span>'


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{100 * float(value):.1f}%"
    if unit == "s":
        v = float(value)
        return f"{v / 3600:.2f} h" if v >= 3600 else f"{v / 60:.1f} min" if v >= 120 \
            else f"{v:.1f} s"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape(f"{value:,}" if isinstance(value, int) else str(value))


def table(head: list[str], rows: list[list[str]]) -> str:
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def _case(result: dict[str, Any]) -> str:
    cal, hub = result["calibration"]["figures"], result["day"]["hub"]
    new = {"sync_delay_s": (42.0, hub["delay_to_wms_s"]["mean"]),
           "detection_s": (480.0, hub["detection_s"]["mean"]),
           "person_share": (0.07, hub["person_share"]),
           "complaint_rate": (0.012, hub["complaint_rate"])}
    rows = []
    for key, (zh, en, unit) in NAMES.items():
        if key not in cal:
            continue
        f = cal[key]
        rows.append([t(zh, en), fmt(f["target"], unit), fmt(f["fitted"], unit),
                     fmt(f["relative_error"], "%"), fmt(new[key][0], unit),
                     fmt(new[key][1], unit)])
    return table([t("指标", "figure"), t("案例 旧系统", "case, old"),
                  t("模型 旧流程(拟合)", "model, old flow (fitted)"), t("误差", "error"),
                  t("案例 新系统", "case, new"), t("模型 中台", "model, hub")], rows)


def _live(result: dict[str, Any]) -> str:
    rows = []
    for key, row in result["model_vs_live"]["figures"].items():
        zh, en, unit = NAMES.get(key, (key, key, ""))
        if key == "person_share":
            zh, en, unit = "挂起/人工比例", "held / needing a person", "%"
        elif key == "detection_s":
            zh, en, unit = "异常告警时间(平均)", "anomaly alert after (mean)", "s"
        elif key == "complaint_rate":
            zh, en, unit = "投诉风险", "complaint risk", "%"
        mark = " ✓" if row["judged"] and (row["relative_error"] or 0) <= 0.10 else \
            " ✗" if row["judged"] else ""
        rows.append([t(zh, en), fmt(row["live"], unit), fmt(row["model"], unit),
                     fmt(row["relative_error"], "%") + mark])
    return table([t("指标", "figure"), t("实测(演练)", "measured (rehearsal)"),
                  t("模型", "model"), t("相对误差", "relative error")], rows)


def _bottleneck(first: dict[str, Any] | None) -> str:
    if not first:
        return t("无", "none")
    return html.escape(f"{first['resource']} @ {first['hour'] % 24:02d}:00 "
                       f"(x{first['utilisation']:g})")


def nodes_zh(point: dict[str, Any]) -> str:
    n = point.get("ray_nodes_needed")
    return f"(集群基准: {n} 个 8 核 Ray 节点)" if n else ""


def nodes_en(point: dict[str, Any]) -> str:
    n = point.get("ray_nodes_needed")
    return f" (by the cluster benchmark: {n} Ray node(s) of 8 cores)" if n else ""


def _sweep(points: list[dict[str, Any]]) -> str:
    rows = []
    for p in points:
        staff = p["staff_for_p0_99"]
        lanes = p["hub"]["on_time"]
        rows.append([
            fmt(p["value"]), fmt(p["orders"]) + (f" ({p['sampled']})" if p["sampled"] else ""),
            " / ".join(fmt(lanes[k]["share"], "%") for k in ("P0", "P1", "P2", "P3")),
            fmt(p["old_flow"]["on_time"]["P0"]["share"], "%"),
            fmt(staff.get("packers")) + " / " + fmt(staff.get("clerks")),
            fmt(p["hub_cores_needed"]) + " / " + fmt(p.get("ray_nodes_needed")),
            _bottleneck(p["hub"]["saturation"]["first"]),
            fmt(p["business"]["cost_avoided_cny"]) + " / " +
            fmt(p["business_staffed"]["cost_avoided_cny"]),
            fmt(p["business"]["hours_saved"]) + " / " +
            fmt(p["business_staffed"]["hours_saved"])])
    return table([t("取值", "value"), t("订单/天", "orders a day"),
                  t("中台 准时率 P0/P1/P2/P3", "hub on time P0/P1/P2/P3"),
                  t("旧流程 P0 准时", "old flow P0 on time"),
                  t("P0≥99% 所需 打包员/客服", "for P0 ≥ 99%: packers / clerks"),
                  t("中台所需核数 / Ray 节点(8 核)", "hub cores / Ray nodes (8 cores) needed"),
                  t("最先饱和(时刻)", "first to saturate (hour)"),
                  t("避免赔付(元) 现有/补足人员", "compensation avoided (CNY), staff as is / "
                    "as needed"),
                  t("节省人时 现有/补足人员", "person-hours saved, as is / as needed")], rows)


def _screen(result: dict[str, Any]) -> str:
    cal, vs = result["calibration"], result["model_vs_live"]
    vol = {int(p["value"]): p for p in result["sweeps"].get("volume", [])}
    lines = [t(f"旧流程按案例旧数据校准: 四项最大误差 {fmt(cal['max_relative_error'], '%')}",
               f"Old flow fitted to the case's old row: largest error of the four "
               f"{fmt(cal['max_relative_error'], '%')}"),
             t(f"中台模型对比实测演练({vs['scenario']} {vs['window']}): "
               f"{'全部在 10% 以内' if vs['within_10pct'] else '有超出 10% 的项'}",
               f"Hub model against the live rehearsal ({vs['scenario']} {vs['window']}): "
               + ("all within 10%" if vs["within_10pct"] else
                  "some figures off by more than 10%"))]
    for volume in (100000, 1000000):
        p = vol.get(volume)
        if not p:
            continue
        s = p["staff_for_p0_99"]
        first = p["hub"]["saturation"]["first"]
        where = (f"{first['resource']} {first['hour'] % 24:02d}:00" if first else "—")
        lines.append(t(
            f"{volume:,} 单/天: P0 准时≥99% 需打包员 {s.get('packers', '–')} 人、客服 "
            f"{s.get('clerks', '–')} 人, 中台 {p['hub_cores_needed']} 核"
            f"{nodes_zh(p)}; 现有班组下最先饱和: "
            f"{where}",
            f"{volume:,} orders a day: P0 on time ≥ 99% needs {s.get('packers', '–')} packers "
            f"and {s.get('clerks', '–')} clerks, {p['hub_cores_needed']} hub core(s)"
            f"{nodes_en(p)}; with "
            f"the scenario's crews the first to saturate is {where}"))
    b = result["day"]["business"]
    lines.append(t(f"{result['scenario']} 一天: 避免赔付约 {b['cost_avoided_cny']:,} 元, "
                   f"节省 {b['hours_saved']:,} 人时",
                   f"One {result['scenario']} day: about {b['cost_avoided_cny']:,} CNY of "
                   f"compensation avoided, {b['hours_saved']:,} person-hours saved"))
    return ("<ul>" + "".join(f"<li>{x}</li>" for x in lines) + "</ul>"
            + f"<h3>{t('对照案例: 旧系统与新系统', 'Against the case: old and new')}</h3>"
            + _case(result)
            + f"<h3>{t('模型与实测演练', 'Model against the live rehearsal')}</h3>"
            + _live(result)
            + f"<h3>{t('按日单量', 'By orders a day')}</h3>" + _sweep(list(vol.values())))


def _images(result: dict[str, Any]) -> dict[str, bytes]:
    cal = result["calibration"]["figures"]
    keys = list(cal)
    ratio = {"案例旧 case old": [1.0] * len(keys),
             "模型旧 model old": [cal[k]["fitted"] / cal[k]["target"] for k in keys]}
    out = {"calibration": plots.bars("校准: 模型/案例旧数据 Calibration: model / case old row",
                                     [NAMES[k][0] + "\n" + NAMES[k][1] for k in keys], ratio)}
    vs = result["model_vs_live"]["figures"]
    judged = [k for k, v in vs.items() if v["judged"]]
    out["model_vs_live"] = plots.bars(
        "模型与实测 Model vs live (相对于实测 relative to measured)",
        [NAMES[k][0] + "\n" + NAMES[k][1] for k in judged],
        {"实测 live": [1.0] * len(judged),
         "模型 model": [(vs[k]["model"] or 0) / (vs[k]["live"] or 1) for k in judged]})
    vol = result["sweeps"].get("volume", [])
    if vol:
        xs = [float(p["value"]) for p in vol]
        out["volume_staff"] = plots.lines(
            "P0 准时≥99% 所需人员 Staff for P0 on time ≥ 99%", xs,
            {"打包员 packers": [p["staff_for_p0_99"].get("packers") for p in vol],
             "客服 clerks": [p["staff_for_p0_99"].get("clerks") for p in vol]},
            "订单/天 orders a day", "人 people", logx=True, logy=True)
        out["volume_on_time"] = plots.lines(
            "现有班组下准时率 On time with the scenario's crews", xs,
            {**{f"中台 hub {k}": [p["hub"]["on_time"][k]["share"] for p in vol]
                for k in ("P0", "all")},
             "旧流程 old flow P0": [p["old_flow"]["on_time"]["P0"]["share"] for p in vol]},
            "订单/天 orders a day", "准时率 on-time share", logx=True)
    for name, points in result["sweeps"].items():
        if name == "volume":
            continue
        labels = [str(p["value"]) for p in points]
        out[f"sweep_{name}"] = plots.bars(
            f"扫描 sweep: {name} — 准时率 on time", labels,
            {f"中台 hub {k}": [p["hub"]["on_time"][k]["share"] or 0 for p in points]
             for k in ("P0", "all")} | {"旧流程 old flow all": [
                p["old_flow"]["on_time"]["all"]["share"] or 0 for p in points]})
    return out


SCRIPT = """<script>
const b=document.getElementById('lang');
b.onclick=()=>{document.body.classList.toggle('en');};
</script>"""


def write_report(result: dict[str, Any], out: Path) -> Path:
    images = _images(result)
    for name, data in images.items():
        (out / f"{name}.png").write_bytes(data)
    imgs = "".join(f'<figure><img alt="{name}" src="data:image/png;base64,'
                   f'{base64.b64encode(data).decode()}"></figure>'
                   for name, data in images.items())
    cal = result["calibration"]
    params = [[t(*PARAMS[k][:2]), fmt(v["value"]), fmt(v["bounds"][0]) + " – " +
               fmt(v["bounds"][1]), t(*PARAMS[k][2:]),
               t("是", "yes") if v["plausible"] else t("否(在边界上)", "no (at a bound)")]
              for k, v in cal["parameters"].items()]
    sweeps = "".join(f"<h3>{html.escape(name)}</h3>{_sweep(points)}"
                     for name, points in result["sweeps"].items())
    hub = result["hub_measured"]
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>OrderHub capacity: {html.escape(result['scenario'])}</title>
<style>body{{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;max-width:1100px;
margin:2em auto}}table{{border-collapse:collapse;margin:0.6em 0 1.2em}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}img{{max-width:100%}}
#lang{{float:right}}body.en [lang=zh],body:not(.en) [lang=en]{{display:none}}</style>
</head><body><button id="lang" type="button">English / 中文</button>
<h1>{t('订单中台 · 产能与人员测算', 'OrderHub · capacity and staffing')}:
{html.escape(result['scenario'])}</h1>
<p>{t('种子', 'seed')} {result['seed']}; {t('中台实测来源', 'hub figures measured in')}
{html.escape(hub['source'])}: {hub['sustained_orders_per_s']:g} {t('单/秒', 'orders/s')}
@ {hub['cores']} {t('核', 'cores')}, {t('延迟', 'latency')} {hub['latency_s']:g} s.</p>
<h2>{t('一屏结论', 'On one screen')}</h2>{_screen(result)}
<h2>{t('校准(旧流程)', 'Calibration (old flow)')}</h2>
<p>{html.escape(cal['method'])}; {cal['evaluations']} runs, {cal['orders']:,} orders
({html.escape(cal['scenario'])}).</p>
{table([t('参数', 'parameter'), t('拟合值', 'fitted'), t('范围', 'bounds'),
        t('合理的含义', 'plausible means'), t('合理', 'plausible')], params)}
<p>{t('固定(未拟合)', 'fixed (not fitted)')}: {html.escape(str(cal['fixed']))}</p>
<h2>{t('扫描', 'Sweeps')}</h2>{sweeps}
<h2>{t('图表', 'Plots')}</h2>{imgs}
<p>{html.escape(result['fast_path'])}; docs/capacity.md</p>
{SCRIPT}</body></html>
"""
    path = out / "capacity.html"
    path.write_text(page, encoding="utf-8")
    return path
