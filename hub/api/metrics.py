"""``/metrics`` in the Prometheus text format (version 0.0.4), written by hand, and
``/healthz``.

Gauges come from the ledger at scrape time; the decision-latency histogram per lane is
cumulative since the API started (from the ledger's event stream); counters of the
outbox relay (deliveries, failed attempts = retries, alerts sent) come from the running
hub's ``stats()`` when ``create_app`` is given one.

>>> print(MetricText().gauge("x_total", "An example.", {("a", "b"): 2.0}, ("k", "j")).text())
# HELP x_total An example.
# TYPE x_total gauge
x_total{k="a",j="b"} 2
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from hub.api.auth import Reader
from hub.api.lanes import DONE, FINISHED, UNDECIDED, lane_stages
from hub.domain.decision import Stage
from hub.gcwatch import max_pauses

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RELAY_COUNTERS = {
    "delivered": ("orderhub_outbox_delivered_total", "Outbox rows delivered."),
    "failed": ("orderhub_outbox_retries_total",
               "Failed delivery attempts (each is retried with backoff)."),
    "alerts_sent": ("orderhub_alerts_sent_total", "DingTalk messages sent."),
    "alert_orders": ("orderhub_alert_orders_total", "Held orders listed in DingTalk messages."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class MetricText:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _head(self, name: str, help_text: str, kind: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def _sample(self, name: str, labels: Mapping[str, str], value: float) -> None:
        text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
        self.lines.append(f"{name}{{{text}}} {_number(value)}" if text
                          else f"{name} {_number(value)}")

    def gauge(self, name: str, help_text: str, values: Mapping[tuple[str, ...], float],
              labels: tuple[str, ...] = (), kind: str = "gauge") -> MetricText:
        self._head(name, help_text, kind)
        for label_values, value in sorted(values.items()):
            self._sample(name, dict(zip(labels, label_values, strict=True)), value)
        return self

    def histogram(self, name: str, help_text: str, per_lane: Mapping[str, Any]) -> MetricText:
        self._head(name, help_text, "histogram")
        for lane, h in sorted(per_lane.items()):
            for le, count in h.cumulative():
                self._sample(f"{name}_bucket", {"lane": lane, "le": le}, count)
            self._sample(f"{name}_sum", {"lane": lane}, round(h.total, 6))
            self._sample(f"{name}_count", {"lane": lane}, h.n)
        return self

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(state: Any) -> str:
    ledger = state.ledger
    state.feed.refresh()
    counts = ledger.counts()
    stages = counts.get("stages", {})
    split = lane_stages(ledger, counts)
    m = MetricText()
    m.gauge("orderhub_orders", "Orders in the ledger by current stage.",
            {(s,): n for s, n in stages.items()}, ("stage",))
    m.gauge("orderhub_lane_orders", "Orders decided into each lane.",
            {(lane,): n for lane, n in counts.get("lanes", {}).items()}, ("lane",))
    backlog = {(lane,): sum(n for s, n in row.items() if s not in (*DONE, FINISHED, Stage.HELD))
               for lane, row in split.items()}
    backlog[("undecided",)] = sum(stages.get(s, 0) for s in UNDECIDED)
    m.gauge("orderhub_backlog", "Orders not yet shipped, cancelled or held, per lane "
            "(lane=undecided: waiting for a decision).", backlog, ("lane",))
    m.histogram("orderhub_decision_latency_seconds",
                "Seconds from an order's arrival in the ledger to its decision, per lane.",
                state.feed.histogram_lines())
    m.gauge("orderhub_anomalies_open", "Open holds and reconcile mismatches.",
            {(r["reason"], r["group"]): r["count"] for r in ledger.open_anomalies()},
            ("reason", "group"))
    m.gauge("orderhub_outbox_pending", "Outbox rows not yet delivered.",
            {(): ledger.pending_count()})
    latest = ledger.get_ruleset(None)
    m.gauge("orderhub_rules_version", "The rule-set version in force.",
            {(): latest.version if latest else 0})
    stats = (state.stats() or {}) if state.stats is not None else {}
    relay = stats.get("relay", {})
    for key, (name, help_text) in RELAY_COUNTERS.items():
        if key in relay:
            m.gauge(name, help_text, {(): relay[key]}, kind="counter")
    pauses = max_pauses(stats)
    if pauses:
        m.gauge("orderhub_gc_max_pause_seconds", "Longest garbage-collector pause of each hub "
                "process since it started.", {(p,): s for p, s in pauses.items()}, ("process",))
    return m.text()


class HealthOut(BaseModel):
    status: str
    ledger: str
    rules_version: int | None


router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Reader],
            responses={200: {"content": {CONTENT_TYPE: {}},
                             "description": "Prometheus text format"}})
def metrics(request: Request) -> PlainTextResponse:
    """Orders per stage and lane, backlog, decision-latency histograms per lane, open
    anomalies, outbox pending, relay counters (retries, alerts sent)."""
    return PlainTextResponse(render(request.app.state), media_type=CONTENT_TYPE)


@router.get("/healthz", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "the ledger does not answer"}})
def healthz(request: Request, response: Response) -> HealthOut:
    """Alive, and whether the ledger answers."""
    try:
        latest = request.app.state.ledger.get_ruleset(None)
    except Exception as exc:  # a health check reports any failure of the ledger as degraded
        response.status_code = 503
        return HealthOut(status="degraded", ledger=f"error: {type(exc).__name__}",
                         rules_version=None)
    return HealthOut(status="ok", ledger="ok", rules_version=latest.version if latest else None)
