"""The hub on a Ray cluster: which cluster it joins, what it refuses there, where each
actor goes, and where they are now (for ``orderhub status``).

Placement (:func:`placement`):

- pullers, the validator and scorer pools, the router, the relay and the reconciler go
  anywhere, ``SPREAD`` over the nodes; Ray restarts them on another node when theirs is
  lost (``max_restarts``);
- the ledger writer goes where the ledger is reachable: with SQLite, the file on the
  driver's node (node affinity); with PostgreSQL, anywhere (``SPREAD``);
- the rule store watches ``rules_file``, a file on the driver's node, so it stays there;
- the API is served by the driver process, where its port is bound.

A SQLite ledger is refused on a cluster (:func:`ledger_refusal`): the writer would write
a file on whichever node Ray restarted it on while the dashboard reads another.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hub.config import ConfigError, HubSettings

NAMESPACE = "orderhub"  # the hub's actors live in this Ray namespace
ROLES = ("puller", "pool", "router", "relay", "reconciler", "ledger", "rules")
DRIVER_ROLES = frozenset({"rules"})


def cluster_address(settings: HubSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """The Ray cluster the hub joins: ``ray_address`` (flag, ``ORDERHUB_RAY_ADDRESS``,
    config), else ``RAY_ADDRESS`` (set for a Ray Job's entrypoint); None for a local Ray.
    ``local`` means a local Ray too."""
    address = settings.ray_address or environ.get("RAY_ADDRESS") or None
    return None if address in (None, "", "local") else address


def is_postgres(ledger: str) -> bool:
    return ledger.startswith(("postgresql://", "postgres://"))


def ledger_refusal(settings: HubSettings, address: str | None) -> str | None:
    """Why this ledger cannot be used on the cluster at ``address``; None when it can."""
    if address is None or is_postgres(settings.ledger):
        return None
    return (f"ledger: a SQLite ledger ({settings.ledger}) cannot be used with a Ray cluster "
            f"({address}): the ledger writer may run on any node and the file would be "
            "written on one and read on another; use PostgreSQL "
            "(ledger = \"postgresql://user@host:5432/db\" or --ledger)")


def check_cluster(settings: HubSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """``ConfigError`` when the settings cannot run on the cluster they name; the address."""
    address = cluster_address(settings, environ)
    refusal = ledger_refusal(settings, address)
    if refusal:
        raise ConfigError(refusal)
    return address


def placement(role: str, ledger: str, driver_node: str | None) -> dict[str, Any]:
    """Ray actor options placing one hub actor of ``role`` (see the module's docstring);
    ``driver_node`` is the driver's node id (``ray.get_runtime_context().get_node_id()``)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    pinned = role in DRIVER_ROLES or (role == "ledger" and not is_postgres(ledger))
    if pinned and driver_node:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(driver_node, soft=False)}
    return {"scheduling_strategy": "SPREAD"}


# -- where the actors are (``orderhub status --ray-address``) ----------------------------------
HUB_CLASSES = frozenset({"ShopPullers", "Validator", "Scorer", "Router", "OutboxRelay",
                         "Reconciler", "LedgerService", "RuleStore"})


def placement_report(address: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The hub's live actors on the cluster at ``address`` (GCS ``host:port`` or the
    dashboard's ``http://host:port``): ``nodes`` (id -> ip, head?, alive) and ``actors``
    (class, node, pid, the Ray job of the hub that made it), from Ray's state API (needs
    the dashboard: ``orderhub[cluster]``)."""
    from ray.util.state import list_actors, list_nodes

    nodes = {n.node_id: {"ip": n.node_ip, "head": bool(n.is_head_node),
                         "alive": n.state == "ALIVE"}
             for n in list_nodes(address=address, raise_on_missing_output=False)}
    actors = [a for a in list_actors(address=address, filters=[("state", "=", "ALIVE")],
                                     limit=10_000, raise_on_missing_output=False)
              if a.class_name in HUB_CLASSES and (a.ray_namespace or NAMESPACE) == namespace]
    rows = sorted(({"class": a.class_name, "node_id": a.node_id,
                    "node_ip": nodes.get(a.node_id, {}).get("ip"), "pid": a.pid,
                    "actor_id": a.actor_id, "job_id": a.job_id} for a in actors),
                  key=lambda r: (r["node_id"] or "", r["class"]))
    per_node: dict[str, int] = {}
    for row in rows:
        per_node[row["node_id"]] = per_node.get(row["node_id"], 0) + 1
    return {"nodes": nodes, "actors": rows, "actors_per_node": per_node}


def format_placement(report: Mapping[str, Any]) -> list[str]:
    lines = []
    for node_id, node in sorted(report["nodes"].items(),
                                key=lambda kv: (not kv[1]["head"], kv[0])):
        if not node["alive"]:
            continue
        mine = [r for r in report["actors"] if r["node_id"] == node_id]
        counts: dict[str, int] = {}
        for row in mine:
            counts[row["class"]] = counts.get(row["class"], 0) + 1
        kind = "head" if node["head"] else "worker"
        what = "  ".join(f"{k}x{v}" if v > 1 else k for k, v in sorted(counts.items()))
        lines.append(f"node {node['ip']} {node_id[:12]} ({kind}): {len(mine)} actors  "
                     f"{what or '-'}")
    return lines
