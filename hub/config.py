"""Hub configuration: one TOML file plus ``ORDERHUB_*`` environment variables.

Environment variables win over the file; nested fields use ``__``, e.g.
``ORDERHUB_DINGTALK__SECRET`` or ``ORDERHUB_API__TOKEN``. Secrets are
``SecretStr`` so they never print in a log or a repr.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.clock import Clock, ScaledClock
from hub.domain.order import Channel

DEFAULT_LEDGER = "var/orderhub.sqlite3"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelConfig(_Section):
    channel: Channel
    shop: str
    base_url: str
    app_key: str = "demo-key"
    app_secret: SecretStr = SecretStr("demo-secret")
    access_token: SecretStr = SecretStr("demo-token")
    interval_s: float = Field(default=30.0, gt=0)
    overlap_s: float = Field(default=60.0, ge=0)
    safety_lag_s: float = Field(default=2.0, ge=0)
    # ask the marketplace this far past now: an order changed while its window is paged
    # then stays in the window (the cursor still stops at now less the safety lag)
    lookahead_s: float = Field(default=10.0, ge=0)
    page_size: int = Field(default=100, ge=1, le=100)
    # a window's pages are gathered up to this many orders for one ledger call
    ingest_batch: int = Field(default=1000, ge=1)
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=6, ge=0)
    push: bool = False  # orders arrive on the push endpoint; pulling only catches up


class PoolConfig(_Section):
    validators: int = Field(default=1, ge=1)
    scorers: int = Field(default=1, ge=1)
    batch_max: int = Field(default=1000, ge=1)
    batch_ms: float = Field(default=50.0, gt=0)
    max_inflight_batches: int = Field(default=8, ge=1)
    # the duplicate check's recent orders the router keeps (~2.5 KB each): past this many
    # within the rule set's window, the oldest are forgotten early (the default holds a
    # 30-minute window up to ~110 orders/s)
    recent_orders_max: int = Field(default=200_000, ge=1)


class BackOfficeConfig(_Section):
    wms_url: str = ""
    erp_url: str = ""
    crm_url: str = ""
    timeout_s: float = Field(default=10.0, gt=0)
    crm_cache_ttl_s: float = Field(default=600.0, ge=0)
    inventory_refresh_s: float = Field(default=60.0, gt=0)
    wms_poll_s: float = Field(default=5.0, gt=0)


class DingTalkConfig(_Section):
    url: str = ""  # robot base URL, e.g. http://127.0.0.1:PORT
    access_token: SecretStr = SecretStr("")
    secret: SecretStr = SecretStr("")
    per_minute: int = Field(default=20, ge=1)
    at_mobiles: dict[str, list[str]] = {}  # group -> mobiles to @


class ApiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=0, le=65535)
    token: SecretStr = SecretStr("")
    read_requires_token: bool = False


class ClockConfig(_Section):
    """Business time: the wall clock unless ``origin`` is set. With it, business time was
    ``origin`` at ``wall_origin`` (epoch seconds; default: when the hub starts) and runs
    ``speedup`` times the wall, as the clock ``orderhub emulate`` prints."""

    origin: datetime | None = None
    speedup: float = Field(default=1.0, gt=0)
    wall_origin: float | None = None

    @model_validator(mode="after")
    def _checked(self) -> ClockConfig:
        if self.origin is None and (self.speedup != 1.0 or self.wall_origin is not None):
            raise ValueError("speedup and wall_origin need an origin")
        if self.origin is not None and self.origin.utcoffset() is None:
            raise ValueError("origin needs a UTC offset, e.g. 2026-11-11T00:00:00+08:00")
        return self

    def build(self) -> Clock:
        if self.origin is None:
            return Clock()
        return ScaledClock(self.origin, self.speedup, self.wall_origin)


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ORDERHUB_", env_nested_delimiter="__", extra="forbid"
    )

    ledger: str = DEFAULT_LEDGER
    ray_address: str | None = None
    rules_file: Path | None = None
    rules_poll_s: float = Field(default=2.0, gt=0)
    reconcile_interval_s: float = Field(default=300.0, gt=0)
    channels: list[ChannelConfig] = []
    pools: PoolConfig = PoolConfig()
    back_office: BackOfficeConfig = BackOfficeConfig()
    dingtalk: DingTalkConfig = DingTalkConfig()
    api: ApiConfig = ApiConfig()
    clock: ClockConfig = ClockConfig()
    start_at: datetime | None = None  # a channel with no cursor yet pulls from here
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        # the config file arrives as init kwargs; the environment overrides it
        return (env_settings, init_settings, dotenv_settings, file_secret_settings)


class ConfigError(Exception):
    """A config file that cannot be used; the message says which file and field."""


def load_settings(path: Path | str | None = None, **overrides: Any) -> HubSettings:
    """Read ``path`` (TOML) if given, then the environment; ``overrides`` (command-line
    flags) win over both."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    try:
        settings = HubSettings(**data)
        given = {k: v for k, v in overrides.items() if v is not None}
        return settings.model_copy(update=given) if given else settings
    except ValidationError as exc:
        lines = [
            f"{path or '<env>'}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError("\n".join(lines)) from None
