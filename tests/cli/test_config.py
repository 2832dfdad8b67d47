"""``orderhub config check``: settings printed redacted, exit 1 on a problem; ``orderhub
run`` refuses to start with demo or missing secrets outside --demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hub.toml"


def _orderhub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**clean, **(env or {})})


def test_check_lists_each_problem_and_exits_1() -> None:
    done = _orderhub("config", "check", "--config", str(EXAMPLE))
    assert done.returncode == 1
    assert "ORDERHUB_SHOP_JD_POP__APP_SECRET" in done.stderr
    assert '"ledger": "var/orderhub.sqlite3"' in done.stdout


def test_check_passes_with_every_secret_set_and_prints_none_of_them(tmp_path: Path) -> None:
    env = {"ORDERHUB_API__TOKEN": "ops:api-tok-1", "ORDERHUB_DINGTALK__SECRET": "SECtalk-2",
           "ORDERHUB_DINGTALK__ACCESS_TOKEN": "talk-3",
           "ORDERHUB_BACK_OFFICE__WMS_CALLBACK_SECRETS": '{"main": "wms-cb-4"}'}
    for shop in ("TMALL_FLAGSHIP", "JD_POP", "DOUYIN_LIVE"):
        env[f"ORDERHUB_SHOP_{shop}__APP_SECRET"] = f"{shop}-s"
        env[f"ORDERHUB_SHOP_{shop}__ACCESS_TOKEN"] = f"{shop}-t"
    done = _orderhub("config", "check", "--config", str(EXAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    for secret in [*env.values(), "wms-cb-4"]:
        if secret.startswith("{"):
            continue
        assert secret not in done.stdout + done.stderr


def test_a_bad_config_is_a_problem_too(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pools]\nbatch_max = 0\n", encoding="utf-8")
    done = _orderhub("config", "check", "--config", str(bad))
    assert done.returncode == 1 and "pools.batch_max" in done.stderr


def test_run_refuses_demo_secrets_outside_demo() -> None:
    done = _orderhub("run", "--config", str(EXAMPLE))
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "api.token is not set" in done.stderr
