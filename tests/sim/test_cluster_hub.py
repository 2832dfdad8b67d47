"""sim.cluster_hub's config writer: what it writes reads back as the hub reads it."""

import tomllib
from datetime import UTC, datetime

from pydantic import SecretStr

from hub.config import HubSettings
from sim.cluster_hub import own_secrets, to_toml


def test_a_written_config_reads_back_as_the_same_settings(tmp_path) -> None:
    at = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
    given = {
        "ledger": "postgresql://postgres@127.0.0.1:5432/test?schema=x", "start_at": at,
        "reconcile_interval_s": 60, "clock": {"origin": at, "speedup": 30.0},
        "api": {"port": 0},
        "back_office": {"wms_url": "http://127.0.0.1:1",
                        "wms_callback_secrets": {"main": SecretStr("w-s3cret")}},
        "channels": [{"channel": "tmall", "shop": "tmall-shop", "base_url": "http://127.0.0.1:2",
                      "app_secret": SecretStr("say \"hi\""), "push": False}],
    }
    text = to_toml(given)
    data = tomllib.loads(text)
    assert data["channels"][0]["app_secret"] == 'say "hi"'
    assert data["back_office"]["wms_callback_secrets"] == {"main": "w-s3cret"}
    (tmp_path / "hub.toml").write_text(text, encoding="utf-8")
    settings = HubSettings.load(tmp_path / "hub.toml", environ=False)
    assert settings.start_at == at and settings.clock.speedup == 30.0
    assert settings.channels[0].shop == "tmall-shop" and settings.api.port == 0


def test_the_emulators_own_secrets_are_no_demo_values() -> None:
    from hub.secrets import DEMO_VALUES

    secrets = own_secrets(["tmall", "jd"])
    values = [v for c in secrets["marketplaces"]["credentials"].values()
              for k, v in c.items() if k in ("app_secret", "access_token")]
    values += [secrets["wms"]["callback_secret"], secrets["dingtalk"]["robots"][0]["secret"]]
    assert values and not set(values) & DEMO_VALUES
