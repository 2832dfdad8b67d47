"""The ``[leases]`` section of the hub's config (``hub.config.LeaseConfig``)."""

from __future__ import annotations

import pytest

from hub.config import ConfigError, HubSettings, LeaseConfig


def test_leases_are_on_with_postgresql_and_off_with_sqlite_unless_told() -> None:
    auto = LeaseConfig()
    assert (auto.ttl_s, auto.hub_id, auto.pull_log) == (15.0, "", None)
    assert auto.on("postgresql://postgres@127.0.0.1:5432/test")
    assert auto.on("postgres://db/hub?schema=x")
    assert not auto.on("var/orderhub.sqlite3")
    assert not auto.on("sqlite:///var/hub.sqlite3")
    assert not auto.on("memory:")
    assert LeaseConfig(enabled=True).on("var/orderhub.sqlite3")
    assert not LeaseConfig(enabled=False).on("postgresql://db/hub")


def test_the_leases_section_is_read_from_the_file_and_checked(tmp_path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('[leases]\nttl_s = 9\nhub_id = "hub-east-1"\n', encoding="utf-8")
    settings = HubSettings.load(path, environ=False)
    assert (settings.leases.ttl_s, settings.leases.hub_id) == (9.0, "hub-east-1")
    path.write_text("[leases]\nttl_s = 0.5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"leases\.ttl_s"):
        HubSettings.load(path, environ=False)
    path.write_text("[leases]\nttl = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"leases\.ttl"):
        HubSettings.load(path, environ=False)
