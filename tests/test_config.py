"""HubSettings.load: overrides > ORDERHUB_* > TOML file > defaults, all validated."""

from pathlib import Path

import pytest

from hub.config import ConfigError, HubSettings
from hub.errors import OrderHubError
from hub.gcwatch import ACTOR_THRESHOLD

EXAMPLE = Path(__file__).parents[1] / "examples" / "hub.toml"


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch) -> None:
    """What the machine running the tests has set must not decide them."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("ORDERHUB_"):
            monkeypatch.delenv(name)


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_beats_the_environment_which_beats_the_file(tmp_path, monkeypatch):
    path = _toml(tmp_path, 'ledger = "from-file.sqlite3"\nrules_poll_s = 7\n'
                           'reconcile_interval_s = 11\n[api]\nhost = "0.0.0.0"\nport = 1111\n')
    monkeypatch.setenv("ORDERHUB_LEDGER", "from-env.sqlite3")
    monkeypatch.setenv("ORDERHUB_RULES_POLL_S", "8")
    monkeypatch.setenv("ORDERHUB_API__PORT", "2222")
    settings = HubSettings.load(path, ledger="from-override.sqlite3", api={"port": 3333})
    assert settings.ledger == "from-override.sqlite3"  # all three: the override
    assert settings.api.port == 3333
    assert settings.rules_poll_s == 8  # environment and file: the environment
    assert settings.reconcile_interval_s == 11  # the file alone
    assert settings.api.host == "0.0.0.0"  # a nested override keeps the file's siblings
    assert settings.log_level == "INFO"  # nobody: the default


def test_an_override_of_none_means_not_given(tmp_path) -> None:
    path = _toml(tmp_path, 'ledger = "from-file.sqlite3"\n')
    assert HubSettings.load(path, ledger=None).ledger == "from-file.sqlite3"


def test_environ_false_leaves_ambient_variables_out(tmp_path, monkeypatch) -> None:
    path = _toml(tmp_path, 'ledger = "from-file.sqlite3"\n')
    monkeypatch.setenv("ORDERHUB_LEDGER", "from-env.sqlite3")
    monkeypatch.setenv("ORDERHUB_API__TOKEN", "alice:secret")
    monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", "1,1,1")
    assert HubSettings.load(path).ledger == "from-env.sqlite3"
    settings = HubSettings.load(path, environ=False)
    assert settings.ledger == "from-file.sqlite3"
    assert settings.api.token.get_secret_value() == ""
    assert settings.gc_threshold == ACTOR_THRESHOLD
    assert HubSettings.load(environ=False, ledger="x.sqlite3").ledger == "x.sqlite3"


def test_an_invalid_override_is_refused_with_its_field(tmp_path) -> None:
    path = _toml(tmp_path, "[api]\nport = 8700\n")
    with pytest.raises(ConfigError, match=r"^override: api\.port: .*less than or equal"):
        HubSettings.load(path, api={"port": 70_000})
    with pytest.raises(ConfigError, match=r"override: no_such_field: Extra inputs"):
        HubSettings.load(path, no_such_field=1)


def test_a_bad_file_is_refused_naming_the_file_and_field(tmp_path) -> None:
    path = _toml(tmp_path, "[pools]\nbatch_max = 0\n")
    with pytest.raises(ConfigError, match=rf"^{path}: pools\.batch_max: .*greater than"):
        HubSettings.load(path)
    with pytest.raises(ConfigError, match=rf"{tmp_path / 'nope.toml'}: no such config file"):
        HubSettings.load(tmp_path / "nope.toml")
    broken = _toml(tmp_path, "[api\n")
    with pytest.raises(ConfigError, match=rf"^{broken}: "):
        HubSettings.load(broken)


def test_a_bad_variable_is_refused_naming_it(monkeypatch) -> None:
    monkeypatch.setenv("ORDERHUB_API__PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^environment \(ORDERHUB_API__PORT\): api\.port"):
        HubSettings.load()
    assert HubSettings.load(environ=False).api.port == 8700


def test_the_error_is_an_orderhub_error() -> None:
    assert issubclass(ConfigError, OrderHubError)


def test_the_sample_file_loads_with_its_channels() -> None:
    settings = HubSettings.load(EXAMPLE, environ=False)
    assert [c.channel.value for c in settings.channels] == ["tmall", "jd", "douyin"]
    assert settings.gc_threshold == ACTOR_THRESHOLD
    assert settings.api.access_log is False and settings.api.proxy_headers is True


def test_the_gc_threshold_is_a_setting_from_each_source(tmp_path, monkeypatch) -> None:
    assert HubSettings.load().gc_threshold == ACTOR_THRESHOLD
    path = _toml(tmp_path, "gc_threshold = [700, 10, 10]\n")
    assert HubSettings.load(path).gc_threshold == (700, 10, 10)
    monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", "900,20")
    assert HubSettings.load(path).gc_threshold == (900, 20)
    assert HubSettings.load(path, gc_threshold=[5]).gc_threshold == (5,)


@pytest.mark.parametrize("bad", [[], [1, 2, 3, 4], [-1, 10], ["many"]])
def test_a_bad_gc_threshold_override_is_refused(bad) -> None:
    with pytest.raises(ConfigError, match=r"override: gc_threshold"):
        HubSettings.load(gc_threshold=bad)


@pytest.mark.parametrize("text", ["fast", "1,2,3,4", "-1", "700,,10"])
def test_a_bad_gc_threshold_variable_is_refused_with_its_value(monkeypatch, text) -> None:
    monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", text)
    with pytest.raises(ConfigError, match=r"environment \(ORDERHUB_GC_THRESHOLD\): "
                                          r"gc_threshold: .*expected up to three"):
        HubSettings.load()


def test_the_api_server_settings_are_validated() -> None:
    api = HubSettings.load(environ=False, api={"access_log": True, "proxy_headers": False,
                                               "forwarded_allow_ips": "10.0.0.1"}).api
    assert (api.access_log, api.proxy_headers, api.forwarded_allow_ips) == \
        (True, False, "10.0.0.1")
    with pytest.raises(ConfigError, match=r"override: api\.keep_alive_s"):
        HubSettings.load(api={"keep_alive_s": 0})
