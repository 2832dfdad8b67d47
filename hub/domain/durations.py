"""How long orders stay in each stage, per lane: the statistics behind the ETA.

>>> rows = [(1, "P0", "received", 0.0), (1, "P0", "routed", 2.0),
...         (2, "P0", "received", 5.0), (2, "P0", "routed", 9.0)]
>>> step = stage_durations(rows)[0]
>>> step["from"], step["to"], step["n"], step["mean_s"], step["max_s"]
('received', 'routed', 2, 3.0, 4.0)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


def _percentile(ordered: list[float], q: float) -> float:
    index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def stage_durations(rows: Iterable[tuple[int, str | None, str, float]]) -> list[dict]:
    """Per lane, the time between consecutive stages of each order.

    ``rows`` are (order ref, lane, stage, at epoch) sorted by order, time, event id.
    Returns one dict per (lane, from, to) with n, mean_s, p50_s, p90_s, max_s.
    """
    spans: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    last: tuple[int, str, float] | None = None
    for ref, lane, stage, at in rows:
        if last is not None and last[0] == ref:
            spans[(lane or "", last[1], stage)].append(at - last[2])
        last = (ref, stage, at)
    out = []
    for (lane, before, after), values in sorted(spans.items()):
        values.sort()
        out.append({
            "lane": lane, "from": before, "to": after, "n": len(values),
            "mean_s": round(sum(values) / len(values), 6),
            "p50_s": round(_percentile(values, 0.5), 6),
            "p90_s": round(_percentile(values, 0.9), 6),
            "max_s": round(values[-1], 6),
        })
    return out
