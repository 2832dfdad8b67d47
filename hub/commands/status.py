"""``orderhub status``: what the ledger says now: stages, lanes, anomalies, outbox, and
which hub holds which shop when hubs share the ledger."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hub.domain.decision import Stage

UNDECIDED = (Stage.RECEIVED, Stage.VALIDATED, Stage.SCORED)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="orders per stage and lane, anomalies, outbox, rules")
    p.add_argument("--config", type=Path, help="hub config file (TOML); default ledger if none")
    p.add_argument("--ledger", help="SQLite path or postgresql:// address (overrides config)")
    p.add_argument("--ray-address", help="also show where the hub's actors run on this Ray "
                   "cluster (GCS host:port or dashboard http://host:port; default: the "
                   "config's ray_address, else RAY_ADDRESS)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=status)


def lease_holders(ledger: Any) -> dict[str, Any]:
    """The live hubs, and for each lease (shop, WMS feed) who holds it at which epoch; a
    lease that ran out shows ``holder`` None and who held it last."""
    from hub.app.leases import PRESENCE, live_hubs, wall_now

    rows, now = ledger.leases(), wall_now()
    held = {}
    for r in rows:
        if r.name.startswith(PRESENCE):
            continue
        running = r.expires_at > now
        held[r.name] = {"holder": r.holder if running else None, "epoch": r.epoch,
                        "last_holder": r.holder,
                        "expires_in_s": round((r.expires_at - now).total_seconds(), 1)
                        if running else None}
    return {"hubs": sorted(live_hubs(rows, now)), "leases": held}


def snapshot(ledger: Any) -> dict[str, Any]:
    counts = ledger.counts()
    anomalies: dict[str, int] = {}
    for row in ledger.open_anomalies():
        anomalies[row["reason"]] = anomalies.get(row["reason"], 0) + row.get("count", 1)
    latest = ledger.get_ruleset(None)
    return {
        "stages": counts.get("stages", {}),
        "lanes": counts.get("lanes", {}),
        "backlog": sum(n for s, n in counts.get("stages", {}).items()
                       if s in UNDECIDED),
        "anomalies_open": anomalies,
        "outbox_pending": ledger.pending_count(),
        "rules_version": latest.version if latest is not None else None,
        **lease_holders(ledger),
    }


def _placement(address: str) -> dict[str, Any]:
    """Where the hub's actors are (``hub.cluster.placement_report``), or why not known."""
    from hub.cluster import placement_report

    if address.startswith("ray://"):
        return {"error": f"{address}: a Ray client address cannot be asked where actors run; "
                         "give the GCS address (host:port) or the dashboard URL"}
    try:
        return placement_report(address)
    except ImportError as exc:
        return {"error": f"the Ray state API needs ray[default] "
                         f"(pip install 'orderhub[cluster]'): {exc}"}
    except Exception as exc:  # the state API raises plain exceptions of several kinds
        return {"error": f"{address}: {type(exc).__name__}: {exc}"[:500]}


def status(args: argparse.Namespace) -> int:
    from hub.cluster import cluster_address
    from hub.config import ConfigError, HubSettings
    from hub.ledger import LedgerError, open_ledger
    from hub.secrets import mask_url

    try:
        settings = HubSettings.load(args.config, ledger=args.ledger,
                                    ray_address=args.ray_address)
        if "://" not in settings.ledger and not Path(settings.ledger).exists():
            print(f"orderhub status: no ledger at {mask_url(settings.ledger)} (has the hub run "
                  "yet?)",
                  file=sys.stderr)
            return 1
        ledger = open_ledger(settings.ledger, reader=True)
        data = snapshot(ledger)
        ledger.close()
    except (ConfigError, LedgerError) as exc:
        print(f"orderhub status: {exc}", file=sys.stderr)
        return 1
    address = cluster_address(settings)
    if address is not None:
        data["placement"] = _placement(address)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return 0
    print(f"ledger {mask_url(settings.ledger)}   rules version {data['rules_version']}")
    print("stages:  " + "  ".join(f"{k}={v}" for k, v in sorted(data["stages"].items())))
    print("lanes:   " + "  ".join(f"{k}={v}" for k, v in sorted(data["lanes"].items())))
    print(f"backlog: {data['backlog']}   outbox pending: {data['outbox_pending']}")
    print("open anomalies: " + ("  ".join(f"{k}={v}" for k, v in
                                          sorted(data["anomalies_open"].items())) or "none"))
    if data["leases"]:
        print(f"hubs:    {'  '.join(data['hubs']) or 'none alive'}")
        for name, lease in sorted(data["leases"].items()):
            who = (f"{lease['holder']} (epoch {lease['epoch']}, {lease['expires_in_s']:g}s left)"
                   if lease["holder"] else f"nobody (last {lease['last_holder']}, epoch "
                   f"{lease['epoch']})")
            print(f"  {name:<28} {who}")
    if "placement" in data:
        _print_placement(address, data["placement"])
    return 0


def _print_placement(address: str | None, placement: dict[str, Any]) -> None:
    from hub.cluster import format_placement

    print(f"actors on the Ray cluster at {address}:")
    if "error" in placement:
        print(f"  unknown: {placement['error']}")
        return
    for line in format_placement(placement):
        print("  " + line)
