"""The compose demo (deploy/compose): valid against the Compose Specification's schema,
wired consistently (every secret file it mounts is one make-secrets.sh writes, the
emulators' credentials are the hub's, the hub's config passes `orderhub config check`),
and it gives the hub longer to stop than the hub's drain. Not started here: no Docker
engine on this machine (README)."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import DEPLOY, REPO, run, tool

COMPOSE = DEPLOY / "compose"


def _compose() -> dict:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_matches_the_compose_spec_schema() -> None:
    checker = tool("check-jsonschema", "validates compose.yaml against the Compose spec")
    done = run(checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE / "compose.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_docker_compose_config_accepts_it(secrets_made: Path) -> None:
    docker = tool("docker", "`docker compose config` resolves compose.yaml")
    if run(docker, "compose", "version").returncode != 0:
        pytest.skip("the docker compose plugin is not installed (only the docker client is)")
    done = run(docker, "compose", "-f", str(secrets_made / "compose.yaml"), "config", "--quiet")
    assert done.returncode == 0, done.stderr


def test_yaml_under_deploy_passes_yamllint() -> None:
    yamllint = tool("yamllint", "lints deploy/**/*.yaml")
    done = run(yamllint, "--strict", "-c", str(DEPLOY / ".yamllint"), str(DEPLOY))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def secrets_made(tmp_path: Path) -> Path:
    """A copy of deploy/compose with make-secrets.sh run in it."""
    folder = tmp_path / "compose"
    shutil.copytree(COMPOSE, folder, ignore=shutil.ignore_patterns("secrets"))
    done = run("sh", str(folder / "make-secrets.sh"))
    assert done.returncode == 0, done.stderr
    return folder


def test_every_secret_file_compose_mounts_is_written_by_make_secrets(secrets_made: Path) -> None:
    compose = _compose()
    files = {name: secrets_made / spec["file"] for name, spec in compose["secrets"].items()}
    assert all(path.is_file() and path.read_text() for path in files.values()), files
    hub = compose["services"]["hub"]
    assert set(hub["secrets"]) | {"pg_password", "emulators.toml"} == set(files)
    for name in hub["env_file"]:
        assert (secrets_made / name).is_file()
    assert "secrets/" in (COMPOSE / ".gitignore").read_text(encoding="utf-8")


def _hub_env(folder: Path) -> dict[str, str]:
    lines = (folder / "secrets" / "hub.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip())


def test_the_hub_config_passes_config_check_with_the_made_secrets(secrets_made: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env |= _hub_env(secrets_made) | {"ORDERHUB_SECRETS_DIR": str(secrets_made / "secrets"),
                                     "PYTHONPATH": str(REPO)}
    check = [sys.executable, "-m", "hub.cli", "config", "check", "--config",
             str(secrets_made / "hub.toml")]
    done = run(*check, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "postgresql://orderhub:***@postgres" in done.stdout  # the password masked
    (secrets_made / "secrets" / "jd-pop.app_secret").write_text("")
    refused = run(*check, env=env, cwd=REPO)
    assert refused.returncode == 1 and "jd-pop" in refused.stderr, refused.stderr


def test_the_emulators_hold_the_credentials_the_hub_reads(secrets_made: Path) -> None:
    from sim.emulators.suite import load_suite_config

    secrets = secrets_made / "secrets"
    suite = load_suite_config(secrets / "emulators.toml")
    hub = tomllib.loads((secrets_made / "hub.toml").read_text(encoding="utf-8"))
    for channel in hub["channels"]:
        cred = suite.marketplaces.credential(channel["channel"])
        assert cred.app_key == channel["app_key"]
        shop = channel["shop"]
        assert cred.app_secret.get_secret_value() == (secrets / f"{shop}.app_secret").read_text()
        assert cred.access_token.get_secret_value() == (
            secrets / f"{shop}.access_token").read_text()
    robot = suite.dingtalk.robots[0]
    assert robot.secret.get_secret_value() == (secrets / "dingtalk.secret").read_text()
    wms = suite.wms.callback_secret.get_secret_value()
    assert f'"{suite.wms.warehouse}": "{wms}"' in _hub_env(secrets_made)[
        "ORDERHUB_BACK_OFFICE__WMS_CALLBACK_SECRETS"]
    ports = {name: f"http://127.0.0.1:{port}" for name, port in suite.ports.items()}
    assert {c["base_url"] for c in hub["channels"]} <= set(ports.values())
    assert {hub["back_office"][f"{n}_url"] for n in ("wms", "erp", "crm")} <= set(ports.values())


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60}
    return float(text[:-1]) * units[text[-1]]


def test_compose_gives_the_hub_longer_to_stop_than_its_drain() -> None:
    hub = tomllib.loads((COMPOSE / "hub.toml").read_text(encoding="utf-8"))
    grace = _seconds(_compose()["services"]["hub"]["stop_grace_period"])
    assert grace >= hub["drain_s"] + 15, (grace, hub["drain_s"])


def test_the_demo_scripts_parse() -> None:
    for script in ("make-secrets.sh", "run-hub.sh"):
        done = run("sh", "-n", str(COMPOSE / script))
        assert done.returncode == 0, (script, done.stderr)
