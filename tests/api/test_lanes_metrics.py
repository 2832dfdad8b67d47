"""Lanes, throughput, /metrics, /healthz, the read policy, the page and its assets."""

from __future__ import annotations

import re
from datetime import datetime
from importlib import resources

from tests.api.conftest import AUTH, make_hub


def test_lanes_counts_backlog_and_latency(hub):
    body = hub.client.get("/api/lanes").json()
    assert body["stages"] == {"held": 1, "picked": 1, "routed": 2, "shipped": 1}
    assert (body["total"], body["undecided"], body["backlog"]) == (5, 0, 3)
    lanes = {lane["lane"]: lane for lane in body["lanes"]}
    assert list(lanes) == ["P0", "P1", "P2", "P3"]
    assert (lanes["P0"]["orders"], lanes["P0"]["backlog"], lanes["P0"]["held"]) == (1, 1, 0)
    assert (lanes["P3"]["orders"], lanes["P3"]["backlog"], lanes["P3"]["held"]) == (4, 2, 1)
    assert lanes["P3"]["stages"] == {"held": 1, "routed": 2, "done": 1}
    # every order was decided 2 s after it arrived
    assert lanes["P3"]["latency"] == {"p50": 2.0, "p90": 2.0, "p99": 2.0, "n": 4}
    assert lanes["P0"]["latency"]["n"] == 1
    assert lanes["P1"]["latency"] == {"p50": None, "p90": None, "p99": None, "n": 0}


def test_orders_per_minute(hub):
    body = hub.client.get("/api/throughput", params={"minutes": 5}).json()
    rows = [(datetime.fromisoformat(b["minute"]).strftime("%H:%M"), b["received"], b["shipped"])
            for b in body["buckets"]]
    # received at 00:05:05, shipped at 00:06:45, now 00:07:05
    assert rows == [("00:03", 0, 0), ("00:04", 0, 0), ("00:05", 5, 0), ("00:06", 0, 1),
                    ("00:07", 0, 0)]


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line = f"{name}{{{want}}} " if labels else f"{name} "
    found = [row for row in text.splitlines() if row.startswith(line)]
    assert len(found) == 1, (line, found)
    return float(found[0].split()[-1])


def test_metrics_in_prometheus_text_format(hub):
    gc_stats = {"collections": [9, 3, 1], "pause_s": [0.01, 0.02, 0.3], "max_pause_s": 0.3}
    hub.stats.update({"relay": {"delivered": 7, "failed": 2, "alerts_sent": 3},
                      "router": {"gc": gc_stats},
                      "validators": [{"gc": {**gc_stats, "max_pause_s": 0.125}}]})
    r = hub.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert metric(text, "orderhub_orders", stage="held") == 1
    assert metric(text, "orderhub_orders", stage="routed") == 2
    assert metric(text, "orderhub_lane_orders", lane="P3") == 4
    assert metric(text, "orderhub_backlog", lane="P3") == 2
    assert metric(text, "orderhub_backlog", lane="undecided") == 0
    name = "orderhub_decision_latency_seconds"
    assert metric(text, f"{name}_bucket", lane="P3", le="1") == 0
    assert metric(text, f"{name}_bucket", lane="P3", le="2.5") == 4
    assert metric(text, f"{name}_bucket", lane="P3", le="+Inf") == 4
    assert (metric(text, f"{name}_count", lane="P3"), metric(text, f"{name}_sum", lane="P3")) \
        == (4, 8)
    assert metric(text, "orderhub_anomalies_open", reason="incomplete_address",
                  group="cs-address") == 1
    assert metric(text, "orderhub_outbox_pending") == hub.ledger.pending_count() > 0
    assert metric(text, "orderhub_rules_version") == 1
    assert metric(text, "orderhub_alerts_sent_total") == 3
    assert metric(text, "orderhub_outbox_retries_total") == 2
    assert metric(text, "orderhub_gc_max_pause_seconds", process="router") == 0.3
    assert metric(text, "orderhub_gc_max_pause_seconds", process="validators0") == 0.125
    assert "# TYPE orderhub_decision_latency_seconds histogram" in text
    assert "# TYPE orderhub_alerts_sent_total counter" in text
    for row in text.splitlines():  # every sample line: name{labels} number
        assert row.startswith("#") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? -?[0-9.e+]+", row), row


def test_latency_histogram_counts_only_new_decisions(hub):
    first = metric(hub.client.get("/metrics").text, "orderhub_decision_latency_seconds_count",
                   lane="P3")
    second = metric(hub.client.get("/metrics").text, "orderhub_decision_latency_seconds_count",
                    lane="P3")
    assert first == second == 4


def test_healthz(hub):
    r = hub.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "ledger": "ok", "rules_version": 1}
    hub.ledger.close()
    broken = hub.client.get("/healthz")
    assert broken.status_code == 503
    assert broken.json()["status"] == "degraded"


def test_reads_can_require_the_token(tmp_path):
    for hub in make_hub(tmp_path, read_requires_token=True):
        for path in ("/api/lanes", "/api/anomalies", "/api/rules", "/metrics",
                     "/api/orders?q=T100001"):
            assert hub.client.get(path).status_code == 401, path
            assert hub.client.get(path, headers=AUTH).status_code == 200, path
        assert hub.client.get("/healthz").status_code == 200
        assert hub.client.get("/").status_code == 200


def test_page_and_assets_are_served_and_need_nothing_from_the_internet(hub):
    page = hub.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="static/app.js"' in page.text and 'lang="zh-CN"' in page.text
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css")):
        r = hub.client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    static = resources.files("hub.api") / "static"
    for asset in ("index.html", "app.js", "app.css"):
        text = (static / asset).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), asset
