"""Where secrets come from (shop-keyed variables, the config file, a secrets directory),
what outside --demo refuses, and that nothing printed of the settings shows one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import ConfigError, HubSettings
from hub.secrets import mask_url, redacted, secret_problems, shop_variable

CONFIG = """
ledger = "postgresql://hub:pg-pass-42@127.0.0.1:5432/test"
[[channels]]
channel = "tmall"
shop = "tmall-flagship"
base_url = "http://127.0.0.1:1"
app_secret = "from-the-file"
[dingtalk]
url = "http://127.0.0.1:2"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_ambient(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ORDERHUB_API__TOKEN", "ORDERHUB_DINGTALK__SECRET",
                 "ORDERHUB_DINGTALK__ACCESS_TOKEN", shop_variable("tmall-flagship", "app_secret"),
                 shop_variable("tmall-flagship", "access_token")):
        monkeypatch.delenv(name, raising=False)


def test_the_demo_and_missing_secrets_are_each_named(config: Path) -> None:
    problems = secret_problems(HubSettings.load(config))
    assert any("access_token is the demo value" in p and
               "ORDERHUB_SHOP_TMALL_FLAGSHIP__ACCESS_TOKEN" in p for p in problems)
    assert not any("app_secret" in p for p in problems)  # the file gave one
    assert any(p.startswith("dingtalk.secret is not set") for p in problems)
    assert any(p.startswith("api.token is not set") for p in problems)


def test_a_shop_variable_wins_over_the_file(config: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shop_variable("tmall-flagship", "app_secret"), "from-the-env")
    settings = HubSettings.load(config)
    assert settings.channels[0].app_secret.get_secret_value() == "from-the-env"
    assert HubSettings.load(config, environ=False).channels[0].app_secret.get_secret_value() \
        == "from-the-file"


def test_the_secrets_directory_fills_what_is_left(config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    for name, value in {"tmall-flagship.access_token": "tok-dir", "tmall-flagship.app_secret":
                        "not-used", "dingtalk.secret": "SECdir", "dingtalk.access_token":
                        "robot-dir", "api.token": "alice:api-dir"}.items():
        (folder / name).write_text(value + "\n", encoding="utf-8")
    settings = HubSettings.load(config, secrets_dir=folder)
    shop = settings.channels[0]
    assert shop.access_token.get_secret_value() == "tok-dir"
    assert shop.app_secret.get_secret_value() == "from-the-file"  # the file's value stands
    assert settings.dingtalk.secret.get_secret_value() == "SECdir"
    assert settings.api.token.get_secret_value() == "alice:api-dir"
    assert secret_problems(settings) == []


def test_a_missing_secrets_directory_is_refused(config: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="secrets_dir"):
        HubSettings.load(config, secrets_dir=tmp_path / "nowhere")


def test_what_is_printed_shows_no_secret_and_masks_the_ledger_password(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERHUB_API__TOKEN", "bob:api-env-secret")
    text = json.dumps(redacted(HubSettings.load(config)))
    for secret in ("from-the-file", "api-env-secret", "pg-pass-42", "demo-token"):
        assert secret not in text
    assert "postgresql://hub:***@127.0.0.1:5432/test" in text
    assert mask_url("postgresql://hub@h/db") == "postgresql://hub@h/db"
