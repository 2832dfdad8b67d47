"""The hub as an operator runs it on a cluster: a config file and ``orderhub run
--ray-address ... --config ...`` in its own process (or as a Ray Job), pointed at an
emulator set whose shops, warehouse and robot hold secrets of their own (not the demo
ones, which ``orderhub run`` refuses outside ``--demo``).

Used by the cluster tests, ``examples/cluster/demo.py`` and ``benchmarks.cluster``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

API_TOKEN = "cluster-operator-token"
RUNNING = re.compile(r"orderhub: running; dashboard at (\S+)/")


def own_secrets(channels: list[str]) -> dict[str, Any]:
    """``SuiteConfig`` fields giving every shop, the WMS callback and the robot a
    secret that is not a demo value."""
    return {
        "marketplaces": {"channels": channels, "credentials": {
            ch: {"shop": f"{ch}-shop", "app_key": f"{ch}-key", "app_secret": f"{ch}-s3cret",
                 "access_token": f"{ch}-t0ken"} for ch in channels}},
        "wms": {"callback_secret": "wms-callback-s3cret"},
        "dingtalk": {"robots": [{"name": "ops", "access_token": "ops-t0ken",
                                 "secret": "SECops-s3cret"}]},
    }


# -- a config file -----------------------------------------------------------------------------
def _value(v: Any) -> str:
    if isinstance(v, SecretStr):
        v = v.get_secret_value()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Path):
        v = str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(settings: Mapping[str, Any]) -> str:
    """A hub config file from a ``HubSettings``-shaped dict (scalars first, then tables,
    then arrays of tables such as ``[[channels]]``)."""
    lines: list[str] = []
    tables = {k: v for k, v in settings.items() if isinstance(v, Mapping)}
    arrays = {k: v for k, v in settings.items()
              if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v)}
    for key, value in settings.items():
        if key not in tables and key not in arrays and value is not None:
            lines.append(f"{key} = {_value(value)}")
    for key, table in tables.items():
        lines += ["", f"[{key}]"] + [f"{k} = {_value(v)}" for k, v in table.items()
                                     if v is not None]
    for key, rows in arrays.items():
        for row in rows:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_value(v)}" for k, v in row.items()
                                           if v is not None]
    return "\n".join(lines) + "\n"


def write_config(path: Path, settings: Mapping[str, Any]) -> Path:
    path.write_text(to_toml(settings), encoding="utf-8")
    return path


# -- the hub's process -------------------------------------------------------------------------
def orderhub_executable() -> list[str]:
    here = Path(sys.executable).with_name("orderhub")
    return [str(here)] if here.exists() else [sys.executable, "-m", "hub.cli"]


class HubProcess:
    """``orderhub run ARGS`` in a process of its own (its own process group), its output
    kept in ``log``; ``start()`` returns once it printed that it runs."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path,
                 cwd: Path | None = None) -> None:
        self.args = [*orderhub_executable(), "run", *args]
        self.env = {**env, "ORDERHUB_API__TOKEN": API_TOKEN, "PYTHONUNBUFFERED": "1"}
        self.log, self.cwd = log, cwd
        self.proc: subprocess.Popen[str] | None = None
        self.dashboard: str | None = None
        self._lines: list[str] = []
        self._running = threading.Event()

    def start(self, timeout_s: float = 240.0) -> HubProcess:
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not self._running.wait(0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"orderhub run did not start ({self.proc.returncode}):\n"
                                   + "".join(self._lines[-40:]))
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.log.open("w", encoding="utf-8") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                self._lines.append(line)
                if (m := RUNNING.search(line)) is not None:
                    self.dashboard = m.group(1)
                    self._running.set()

    def output(self) -> str:
        return "".join(self._lines)

    def stop(self, timeout_s: float = 90.0) -> int | None:
        """SIGTERM to the hub (its drain), SIGKILL to its group after ``timeout_s``."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode


def status(config: Path, address: str, env: Mapping[str, str]) -> dict[str, Any]:
    """``orderhub status --json`` with the placement on the cluster at ``address``."""
    done = subprocess.run([*orderhub_executable(), "status", "--config", str(config),
                           "--ray-address", address, "--json"], env=dict(env),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"orderhub status failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


# -- as a Ray Job ------------------------------------------------------------------------------
def submit_job(cluster: Any, args: list[str], env_vars: Mapping[str, str],
               submission_id: str) -> str:
    """``ray job submit --no-wait ... -- orderhub run ARGS`` to ``cluster``
    (``sim.cluster.LocalCluster``); the job's id."""
    runtime_env = {"env_vars": {"ORDERHUB_API__TOKEN": API_TOKEN, "PYTHONUNBUFFERED": "1",
                                **env_vars}}
    cluster.ray_cli("job", "submit", f"--address={cluster.dashboard_url}", "--no-wait",
                    f"--submission-id={submission_id}",
                    f"--runtime-env-json={json.dumps(runtime_env)}", "--",
                    *orderhub_executable(), "run", *args)
    return submission_id


def _job_api(cluster: Any, submission_id: str, tail: str = "") -> dict[str, Any]:
    """The job server's REST answer (``GET /api/jobs/ID[/logs]``), with the cluster's
    token."""
    import httpx

    token = cluster.env.get("RAY_AUTH_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(f"{cluster.dashboard_url}/api/jobs/{submission_id}{tail}",
                       headers=headers, timeout=30)
    answer.raise_for_status()
    return answer.json()


def job_status(cluster: Any, submission_id: str) -> str:
    """PENDING, RUNNING, STOPPED, SUCCEEDED or FAILED."""
    return str(_job_api(cluster, submission_id)["status"])


def job_id(cluster: Any, submission_id: str) -> str | None:
    """The Ray job id (hex) the submission runs as, once its driver started."""
    return _job_api(cluster, submission_id).get("job_id")


def job_logs(cluster: Any, submission_id: str) -> str:
    return str(_job_api(cluster, submission_id, "/logs").get("logs", ""))


def wait_job(cluster: Any, submission_id: str, until: tuple[str, ...],
             timeout_s: float = 180.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = job_status(cluster, submission_id)
        if state in until:
            return state
        time.sleep(2.0)
    raise TimeoutError(f"job {submission_id} not {until} after {timeout_s:.0f}s")
