"""The puller's CPU per order, without Ray: the real ``ChannelPuller`` and marketplace
clients over real HTTP to the emulators (in a child process, as ``benchmarks.hub_feed``
runs them), the ledger and router actors replaced by in-process fakes that take what
``LedgerHandle`` and ``RouterHandle`` send, pickled as Ray pickles an actor call's
arguments.

The emulators hold ``--seconds`` of orders at ``--rate`` orders/s over the three
channels, all visible already. A round replays them: three pullers (fresh, nothing
acknowledged) on a manual clock moved one second per pull, 1 s overlap, pages of 100, no
look-ahead (every order is visible already; the hub's look-ahead only asks past what the
marketplace has made visible), pulls on whole seconds. A window is the cursor (now less
the 0.2 s safety lag) less the overlap, floored, to now: three seconds of orders, so each
order is fetched three times (in the hub two to three times: there the last second of a
window is only partly visible yet).

Process CPU (``time.process_time``) of a round is split by part: ``http`` (the httpx
call), ``decode`` (bytes to the page's structs), ``convert`` (structs to orders, the
quarantine), ``acknowledged`` (the re-read filter), ``ledger_encode`` (what the ledger
handle sends, its pickle included), ``router_encode`` (the pickle of what the router
handle sends) and ``other`` (the puller's own bookkeeping, the event loop). The fakes'
receiving side (``ledger_side``, ``router_decode``) runs in other processes in the hub:
it is timed apart and not counted in the puller's total.

``--against REV`` measures A/B in one run: rounds alternate, each in a fresh process,
between ``REV`` (exported with ``git archive``) and the working tree, on the same loaded
emulators; medians are reported.

    python -m benchmarks.puller [--seconds 8] [--rate 2000] [--rounds 5] [--against HEAD]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "results" / "puller.json"
ROOT = Path(__file__).resolve().parent.parent
PARTS = ("http", "decode", "convert", "acknowledged", "ledger_encode", "router_encode",
         "other")
APART = ("ledger_side", "router_decode")  # the other processes' side, not the puller's


# -- one round, in its own process ------------------------------------------------------

class Meter:
    """Process CPU by part; a part timed inside another is taken out of the outer one."""

    def __init__(self) -> None:
        self.parts: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    def _enter(self) -> None:
        self._stack.append([time.process_time(), 0.0])

    def _leave(self, part: str) -> None:
        began, inner = self._stack.pop()
        spent = time.process_time() - began
        self.parts[part] += spent - inner
        if self._stack:
            self._stack[-1][1] += spent

    def run(self, part: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self._enter()
        try:
            return fn(*args, **kwargs)
        finally:
            self._leave(part)

    def wrap(self, part: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            return self.run(part, fn, *args, **kwargs)
        return timed

    def wrap_async(self, part: str, fn: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            self._enter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self._leave(part)
        return timed

    def patch(self, owner: Any, name: str, part: str) -> None:
        """Time ``owner.name`` (when it exists) as ``part``."""
        fn = getattr(owner, name, None)
        if fn is None:
            return
        wrap = self.wrap_async if asyncio.iscoroutinefunction(fn) else self.wrap
        setattr(owner, name, wrap(part, fn))


class _Done:
    """An actor call's answer, awaitable as a Ray object ref is."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return self.value
        yield  # pragma: no cover  (makes this a generator)


class _Method:
    def __init__(self, fn: Any, meter: Meter, sent: str, received: str) -> None:
        self.fn, self.meter, self.sent, self.received = fn, meter, sent, received

    def remote(self, *args: Any, **kwargs: Any) -> _Done:
        from ray import cloudpickle

        blob = self.meter.run(self.sent, cloudpickle.dumps, (args, kwargs), protocol=5)
        return _Done(self.meter.run(self.received, self._call, blob))

    def _call(self, blob: bytes) -> Any:
        import pickle

        args, kwargs = pickle.loads(blob)
        return self.fn(*args, **kwargs)


class FakeActor:
    """An actor handle: ``handle.method.remote(...)`` pickles the arguments (timed as
    ``sent``), then the method runs here (timed as ``received``)."""

    def __init__(self, target: Any, meter: Meter, sent: str, received: str) -> None:
        self._target, self._meter, self._sent, self._received = target, meter, sent, received

    def __getattr__(self, name: str) -> _Method:
        return _Method(getattr(self._target, name), self._meter, self._sent, self._received)


class LedgerSide:
    """The ledger writer's answers to a puller: stored versions, the cursor, quarantine."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str, str], int] = {}
        self.cursors: dict[tuple[str, str], datetime] = {}
        self.quarantined = 0
        self.stored = 0

    def _positions(self, rows: list[tuple[int, tuple, int]], cursor: Any) -> list[int]:
        positions = []
        for index, key, version in rows:
            if self.versions.get(key, -1) < version:
                self.versions[key] = version
                positions.append(index)
        self.stored += len(positions)
        if cursor is not None:
            self.cursors[(cursor.channel, cursor.shop)] = cursor.window_end
        return positions

    def ingest_wire(self, blob: bytes, cursor: Any = None, at: Any = None) -> list[int]:
        from hub.app.wire import ingest_rows

        return self._positions([(r[0], (r[1], r[2], r[3]), r[4]) for r in ingest_rows(blob)],
                               cursor)

    def ingest_positions(self, orders: Any, cursor: Any = None, at: Any = None) -> list[int]:
        from hub.app.records import micros

        return self._positions([(i, o.key, micros(o.modified_at)) for i, o in
                                enumerate(orders)], cursor)

    def get_cursor(self, channel: str, shop: str) -> datetime | None:
        return self.cursors.get((channel, shop))

    def quarantine_add(self, channel: str, shop: str, raw: Any, error: str, at: Any) -> None:
        self.quarantined += 1

    def stored_versions(self, keys: Any) -> dict:
        return {k: self.versions[k] for k in keys if k in self.versions}

    def oversized(self, orders: Any) -> list:
        return []


class RouterSide:
    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, orders: Any) -> int:
        self.submitted += len(orders)
        return len(orders)


async def _replay(spec: dict[str, Any]) -> dict[str, Any]:
    """A warm-up pass over the first seconds (first imports and first calls are the
    hub's start-up, not its cost per order), then the measured pass."""
    await _pass({**spec, "seconds": min(spec["seconds"], 2)})
    return await _pass(spec)


async def _pass(spec: dict[str, Any]) -> dict[str, Any]:
    import hub.actors.handles as handles

    encode = handles.ingest_bytes
    try:
        return await _pulls(spec, handles)
    finally:
        handles.ingest_bytes = encode


async def _pulls(spec: dict[str, Any], handles: Any) -> dict[str, Any]:
    from hub.actors.handles import LedgerHandle, RouterHandle
    from hub.actors.puller import ChannelPuller
    from hub.clock import ManualClock
    from hub.config import ChannelConfig
    from hub.connectors.marketplace import client_for

    meter = Meter()
    ledger, router = LedgerSide(), RouterSide()
    meter.patch(handles, "ingest_bytes", "ledger_encode")
    ledger_port = LedgerHandle(FakeActor(ledger, meter, "ledger_encode", "ledger_side"))
    router_port = RouterHandle(FakeActor(router, meter, "router_encode", "router_decode"))
    origin = datetime.fromisoformat(spec["origin"])
    clock = ManualClock(origin)
    pullers, clients = [], []
    for wiring in spec["channels"]:
        config = ChannelConfig(**wiring, interval_s=1.0, overlap_s=spec["overlap_s"],
                               safety_lag_s=0.2, lookahead_s=0.0, page_size=100)
        client = client_for(config)
        for name, part in (("_decode", "decode"), ("_page", "convert"),
                           ("_convert", "convert"), ("_fresh", "acknowledged")):
            meter.patch(client, name, part)
        meter.patch(client.http, "request", "http")
        puller = ChannelPuller(config, ledger_port, router_port, clock, start_at=origin,
                               client=client)
        for name in ("unseen", "add", "forget_before", "seen"):
            meter.patch(puller.acknowledged, name, "acknowledged")
        pullers.append(puller)
        clients.append(client)
    totals: dict[str, int] = defaultdict(int)
    end = origin + timedelta(seconds=spec["seconds"] + 2)
    began, wall = time.process_time(), time.perf_counter()
    while clock.now() < end:
        clock.advance(1.0)
        for puller in pullers:
            report = await puller.pull_once()
            if report.error:
                raise RuntimeError(f"{report.channel}: {report.error}")
            if os.environ.get("BENCH_PULLER_TRACE"):
                print(report.channel, report.start, report.end, report.pages, report.fetched,
                      report.new, file=sys.stderr)
            for key in ("pages", "fetched", "new", "known", "quarantined"):
                totals[key] += getattr(report, key)
    cpu = time.process_time() - began
    wall = time.perf_counter() - wall
    requests = {c.channel: dict(c.stats) for c in clients}
    for client in clients:
        await client.aclose()
    parts = {k: meter.parts.get(k, 0.0) for k in (*PARTS[:-1], *APART)}
    own = cpu - sum(parts[k] for k in APART)
    parts["other"] = own - sum(parts[k] for k in PARTS[:-1])
    return {"cpu_s": own, "wall_s": wall, **totals, "parts_s": parts,
            "router_got": router.submitted, "ledger_stored": ledger.stored,
            "clients": requests}


async def _requests(spec: dict[str, Any], repeat: int) -> dict[str, Any]:
    """CPU per page request by HTTP stack and page size: the same page asked ``repeat``
    times, the stacks alternating in blocks of ten (the request built, sent, the answer
    read; not decoded). ``httpx``: a client handed an httpx client; ``aiohttp``: the
    connectors' own (``hub.connectors._http``)."""
    import httpx

    from hub.config import ChannelConfig
    from hub.connectors._window import FORM, _form
    from hub.connectors.marketplace import client_for

    origin = datetime.fromisoformat(spec["origin"])
    out: dict[str, Any] = {}
    for wiring in spec["channels"]:
        for size in (10, 100):
            config = ChannelConfig(**wiring, page_size=size)
            clients = {"httpx": client_for(config, transport=httpx.AsyncHTTPTransport()),
                       "aiohttp": client_for(config)}
            spent = dict.fromkeys(clients, 0.0)
            body = 0
            for _ in range(repeat // 10):
                for name, client in clients.items():
                    path, options = client._request(origin, origin + timedelta(seconds=60), 2)
                    content, headers = options.get("content"), options.get("headers")
                    if (form := options.get("data")) is not None:
                        content, headers = _form(form), {**FORM, **(headers or {})}
                    began = time.process_time()
                    for _ in range(10):
                        answer = await client.http.request(
                            "POST", client.base_url + path, params=options.get("params"),
                            content=content, headers=headers)
                        body = len(answer.content)
                    spent[name] += time.process_time() - began
            for client in clients.values():
                await client.aclose()
            out[f"{wiring['channel']}/{size}"] = {
                "body_bytes": body, **{f"{k}_us_per_request": round(v * 1e6 / repeat, 1)
                                       for k, v in spent.items()}}
    return out


def _round(spec: dict[str, Any]) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    profile = os.environ.get("BENCH_PULLER_PROFILE")  # a path: cProfile the round there
    if not profile:
        print(json.dumps(asyncio.run(_replay(spec))))
        return
    import cProfile

    profiler = cProfile.Profile()
    result = profiler.runcall(asyncio.run, _replay(spec))
    profiler.dump_stats(profile)
    print(json.dumps(result))


# -- the driver -----------------------------------------------------------------------

def _per_order(row: dict[str, Any]) -> dict[str, Any]:
    us = 1e6
    clients = row.get("clients", {}).values()
    return {"fetched": row["fetched"], "new": row["new"], "pages": row["pages"],
            "requests": sum(c.get("requests", 0) for c in clients),
            "not_converted": sum(c.get("known_not_converted", 0) for c in clients),
            "us_per_fetched": round(row["cpu_s"] * us / max(row["fetched"], 1), 2),
            "us_per_new": round(row["cpu_s"] * us / max(row["new"], 1), 2),
            "parts_us_per_new": {k: round(v * us / max(row["new"], 1), 2)
                                 for k, v in row["parts_s"].items()}}


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per = [_per_order(r) for r in rows]
    out = {k: statistics.median(p[k] for p in per)
           for k in ("us_per_fetched", "us_per_new", "fetched", "new", "pages", "requests",
                     "not_converted")}
    out["parts_us_per_new"] = {k: round(statistics.median(p["parts_us_per_new"][k]
                                                          for p in per), 2)
                               for k in per[0]["parts_us_per_new"]}
    out["rounds_us_per_new"] = [p["us_per_new"] for p in per]
    return out


def _plain(value: Any) -> Any:
    secret = getattr(value, "get_secret_value", None)
    return secret() if secret is not None else value


def _export(rev: str, into: Path) -> Path:
    """``rev``'s tree with this benchmark in it, to run rounds against."""
    tree = into / "base"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    shutil.copy(Path(__file__), tree / "benchmarks" / "puller.py")
    return tree


def _run_round(tree: Path, spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-m", "benchmarks.puller", "--round",
                           json.dumps(spec)], cwd=tree, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"round in {tree} failed:\n{done.stderr[-4000:]}")
    if os.environ.get("BENCH_PULLER_TRACE"):
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(seconds: float, rate: float, rounds: int, against: str | None, overlap_s: float,
        out: Path | None, requests: int = 0) -> dict[str, Any]:
    from benchmarks.hub_feed import EmulatorProcess
    from hub.clock import ScaledClock
    from hub.domain.order import SHANGHAI

    clock = ScaledClock(datetime.now(SHANGHAI), 1.0, wall_origin=time.time())
    emulators = EmulatorProcess({"hub_url": "", "marketplaces": {"push": False}}, clock).start()
    trees: dict[str, Path] = {"new": ROOT}
    result_requests: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-puller-"))
    try:
        if against:
            trees = {"old": _export(against, work), "new": ROOT}
        origin = (clock.now() - timedelta(seconds=seconds + 5)).replace(microsecond=0)
        loaded = emulators.load("pull", 1, rate, origin, seconds)
        print(f"loaded {loaded} orders ({rate:.0f}/s for {seconds:.0f} s) over "
              f"{len(emulators.wiring['channels'])} channels", flush=True)
        spec = {"origin": origin.isoformat(), "seconds": seconds, "overlap_s": overlap_s,
                "channels": [{k: _plain(c[k]) for k in ("channel", "shop", "base_url",
                                                        "app_key", "app_secret", "access_token")}
                             for c in emulators.wiring["channels"]]}
        _run_round(ROOT, spec)  # warm the emulators' caches and the disk cache
        if requests:
            got = asyncio.run(_requests(spec, requests))
            for what, row in got.items():
                print(f"{what}: {row}", flush=True)
            result_requests = got
        rows: dict[str, list] = {name: [] for name in trees}
        loads = []
        for n in range(rounds):
            names = list(trees) if n % 2 == 0 else list(reversed(trees))
            for name in names:
                loads.append(os.getloadavg()[0])
                row = _run_round(trees[name], spec)
                rows[name].append(row)
                p = _per_order(row)
                print(f"round {n + 1}/{rounds} {name:>3}: fetched {p['fetched']} new "
                      f"{p['new']} pages {p['pages']} requests {p['requests']} not converted "
                      f"{p['not_converted']}: {p['us_per_fetched']} us/fetched, "
                      f"{p['us_per_new']} us/new  "
                      + " ".join(f"{k}={v}" for k, v in p["parts_us_per_new"].items()),
                      flush=True)
    finally:
        emulators.stop()
        shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {
        "what": "ChannelPuller CPU per order, 3 channels, in-process fakes of the actors",
        "orders": loaded, "rate": rate, "seconds": seconds, "overlap_s": overlap_s,
        "page_size": 100, "rounds": rounds, "against": against,
        "loadavg": {"during_1m": [round(v, 2) for v in loads],
                    "end": [round(v, 2) for v in os.getloadavg()]},
        "medians": {name: _median(r) for name, r in rows.items() if r},
        "requests": result_requests}
    for name, m in result["medians"].items():
        print(f"{name:>3}: median {m['us_per_fetched']} us/fetched, {m['us_per_new']} us/new "
              f"(rounds {m['rounds_us_per_new']}); parts us/new {m['parts_us_per_new']}")
    print(f"load average {result['loadavg']}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=8.0, help="orders of this many seconds")
    p.add_argument("--rate", type=float, default=2000.0, help="orders per second")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--overlap", type=float, default=1.0, help="pull window overlap (s)")
    p.add_argument("--against", help="a git revision to measure against (A/B)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--requests", type=int, default=0,
                   help="also time this many page requests per transport and page size")
    p.add_argument("--round", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.round:
        _round(json.loads(a.round))
        return 0
    run(a.seconds, a.rate, a.rounds, a.against, a.overlap, a.out, a.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
