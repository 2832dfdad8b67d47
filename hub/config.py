"""Hub configuration: ``HubSettings.load(file, *, environ=True, **overrides)``.

Precedence, highest first: ``overrides`` (command-line flags, or what a rehearsal
wires), then ``ORDERHUB_*`` environment variables (nested fields use ``__``, e.g.
``ORDERHUB_DINGTALK__SECRET`` or ``ORDERHUB_API__TOKEN``), then the TOML file, then
the defaults. ``environ=False`` leaves the environment out (rehearsals, benchmarks).
Everything is validated, overrides too; what cannot be used raises ``ConfigError``
naming where it came from and the field. Secrets are ``SecretStr`` so they never
print in a log or a repr.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from hub.clock import Clock, ScaledClock
from hub.domain.order import Channel
from hub.errors import OrderHubError
from hub.gcwatch import ACTOR_THRESHOLD, checked_threshold

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
    # warehouse name -> the secret its status callbacks are signed with (none: refused)
    wms_callback_secrets: dict[str, SecretStr] = {}
    wms_callback_window_s: float = Field(default=300.0, gt=0)  # timestamps this far off


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
    access_log: bool = False  # one line per request: off, the hub logs per batch
    # X-Forwarded-For / -Proto are believed only from these proxies' addresses
    proxy_headers: bool = True
    forwarded_allow_ips: str = "127.0.0.1"
    keep_alive_s: float = Field(default=30.0, gt=0)
    graceful_shutdown_s: float | None = Field(default=None, gt=0)
    # a signed push stamped further than this from the hub's clock is refused (a replay)
    push_window_s: float = Field(default=300.0, gt=0)
    # what one client may send (hub.api.limits): a larger body is 413, a slower one 408
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    body_timeout_s: float = Field(default=30.0, gt=0)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)  # request line and headers
    max_records: int = Field(default=1000, ge=1)  # per push or status callback, else 413
    # token buckets (429 with Retry-After): per client address, and per marketplace for
    # pushes; generous enough for Double-11's pushes on loopback; 0 turns one off
    rate_per_s: float = Field(default=1000.0, ge=0)
    rate_burst: int = Field(default=2000, ge=1)
    push_rate_per_s: float = Field(default=500.0, ge=0)
    push_rate_burst: int = Field(default=1000, ge=1)


    @field_validator("token")
    @classmethod
    def _tokens(cls, value: SecretStr) -> SecretStr:
        from hub.roles import parse_tokens

        parse_tokens(value.get_secret_value())  # unknown roles are refused with the name
        return value

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


class LeaseConfig(_Section):
    """Hubs sharing one ledger divide its shops with leases (docs/leases.md)."""

    # None: on with a PostgreSQL ledger (where several hubs can share it), off otherwise
    enabled: bool | None = None
    ttl_s: float = Field(default=15.0, ge=1.0)  # renewed every third of it
    hub_id: str = Field(default="", max_length=200)  # default: <host>-<pid>-<random>
    pull_log: Path | None = None  # also write the pull log here (JSON lines)

    def on(self, ledger: str) -> bool:
        if self.enabled is not None:
            return self.enabled
        return ledger.split("://", 1)[0] in ("postgresql", "postgres")


@dataclass(frozen=True)
class _Loading:
    file: Path | None
    environ: bool


# what the ``HubSettings.load`` under way asked for; a plain ``HubSettings(...)`` reads
# its arguments, then the environment
_LOADING: ContextVar[_Loading | None] = ContextVar("hub_settings_loading", default=None)


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
    leases: LeaseConfig = LeaseConfig()
    start_at: datetime | None = None  # a channel with no cursor yet pulls from here
    log_level: str = "INFO"
    # on SIGTERM/SIGINT, how long in-flight batches may take (docs/operations.md)
    drain_s: float = Field(default=20.0, ge=0)
    # one file per secret (``hub.secrets``), as container platforms mount them
    secrets_dir: Path | None = None
    # each actor's collector thresholds (``hub.gcwatch``); in the environment "700,10,10"
    gc_threshold: Annotated[tuple[int, ...], NoDecode] = ACTOR_THRESHOLD

    @field_validator("gc_threshold", mode="before")
    @classmethod
    def _threshold_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return [int(v) for v in value.split(",")]
        except ValueError:
            raise ValueError(f"{value!r}: expected up to three non-negative integers "
                             "such as 700,10,10") from None

    @field_validator("gc_threshold")
    @classmethod
    def _threshold(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return checked_threshold(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        loading = _LOADING.get() or _Loading(file=None, environ=True)
        sources = [init_settings]
        if loading.environ:
            sources.append(env_settings)
        if loading.file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=loading.file))
        return tuple(sources)

    @classmethod
    def load(cls, file: Path | str | None = None, *, environ: bool = True,
             **overrides: Any) -> HubSettings:
        """Settings from ``overrides`` (None means not given), then ``ORDERHUB_*`` unless
        ``environ`` is false, then ``file`` (TOML), then the defaults; ``ConfigError``
        names the file or source and the field of whatever cannot be used."""
        path = Path(file) if file is not None else None
        if path is not None and not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        given = {k: v for k, v in overrides.items() if v is not None}
        token = _LOADING.set(_Loading(file=path, environ=environ))
        try:
            settings = cls(**given)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except SettingsError as exc:  # a variable that is not the JSON its field needs
            raise ConfigError(f"environment: {exc}") from None
        except ValidationError as exc:
            raise ConfigError(_explained(exc, path, given, environ)) from None
        finally:
            _LOADING.reset(token)
        if settings.secrets_dir is not None and not settings.secrets_dir.is_dir():
            raise ConfigError(f"secrets_dir: {settings.secrets_dir} is not a directory")
        from hub.secrets import fill_secrets

        return fill_secrets(settings, os.environ if environ else {}, settings.secrets_dir)


class ConfigError(OrderHubError):
    """Settings that cannot be used; the message says which file (or source) and field."""


def _explained(exc: ValidationError, path: Path | None, given: dict[str, Any],
               environ: bool) -> str:
    """One line per error: where the bad value came from, the field, what is wrong."""
    layers: list[tuple[str, dict[str, Any]]] = [("override", given)]
    if environ:
        layers.append(("environment", EnvSettingsSource(HubSettings)()))
    if path is not None:
        layers.append((str(path), tomllib.loads(path.read_text(encoding="utf-8"))))
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        origin = next((name for name, data in layers if _holds(data, loc)),
                      str(path) if path is not None else "defaults")
        if origin == "environment":
            name = "ORDERHUB_" + "__".join(str(p).upper() for p in loc)
            origin = f"environment ({name})" if name in os.environ else origin
        lines.append(f"{origin}: {'.'.join(str(p) for p in loc)}: {err['msg']}")
    return "\n".join(lines)


def _holds(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Whether ``data`` has a value at the path ``loc`` (keys and list indices)."""
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        in_list = (isinstance(data, list | tuple) and isinstance(part, int)
                   and part < len(data))
        if not (in_dict or in_list):
            return False
        data = data[part]
    return True

