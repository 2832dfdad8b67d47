"""The whole emulator set on loopback: marketplaces (Tmall, JD, Douyin) and back
offices (WMS, ERP, CRM, DingTalk robot), each on a free port, sharing one clock.

>>> from sim.emulators.suite import EmulatorSuite, SuiteConfig
>>> with EmulatorSuite(SuiteConfig(marketplaces={"channels": []})) as suite:
...     sorted(suite.urls)
['crm', 'dingtalk', 'erp', 'wms']

Wiring inside the set: the WMS's dispatches draw the ERP's stock (``erp_follows_wms``);
with a trace, the marketplaces replay it, the CRM learns its buyers and the ERP stocks
its merchant SKUs (``erp.default_stock``; lines are mapped through the ERP's catalogue,
``erp.catalogue``, which the rehearsal fills from the scenario). With ``hub_url`` the
WMS posts status to ``{hub_url}/wms/status`` and, with ``marketplaces.push``, the
marketplaces push their events to ``{hub_url}/push/{channel}``. The business clock is a
``ScaledClock`` from ``origin`` (default: the trace's) at ``speedup``; the DingTalk
robot keeps wall time unless ``dingtalk.business_time``.

Outside records (issue #19, for the verdict): every emulator keeps its own
append-only records, served at ``GET {url}/_records``.
``suite.write_records(out_dir)`` writes ``out_dir/records/<name>.json`` for every
emulator started (wms, erp, crm, dingtalk, tmall, jd, douyin) and returns
``{name: path}``; call it after the run (the records stay readable after ``stop``).
``suite.records()`` gives the same as dicts. The DingTalk records' ``at`` is business
time on the suite's clock (``at_wall`` the wall).

The warehouse's clock: ``suite.fast_forward_warehouse(factor)`` (or ``POST
{wms}/_control/clock {"factor": F}``, or ``suite.emulators["wms"].fast_forward(F)``)
makes the WMS's business time run ``factor`` times as fast as the suite's from then
on, so its queue drains quickly once no order is arriving; returns the WMS's time then.
The WMS's records and status events keep business times on its own clock, later than
the suite's clock from then on: call it only when every order has been dispatched
(a dispatch, intercept or amend after it is stamped on the warehouse's fast clock).

Config file (TOML, every section optional): see ``examples/emulators.toml``.
"""

from __future__ import annotations

import importlib
import logging
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from hub.clock import Clock, ScaledClock
from hub.config import ConfigError
from hub.domain import SHANGHAI
from sim.emulators.crm import CrmConfig, CrmEmulator
from sim.emulators.dingtalk import DingTalkEmulator, DingTalkEmulatorConfig
from sim.emulators.erp import ErpConfig, ErpEmulator
from sim.emulators.wms import WmsConfig, WmsEmulator
from sim.trace import read_trace

log = logging.getLogger("orderhub.sim.suite")

BACK_OFFICES = ("wms", "erp", "crm", "dingtalk")
# The marketplace emulators: module with ``create_app(state)`` per channel. A channel
# whose module is missing is skipped with a warning (hook for new marketplaces).
MARKETPLACE_MODULES = {"tmall": "sim.emulators.tmall", "jd": "sim.emulators.jd",
                       "douyin": "sim.emulators.douyin"}


class ShopCredential(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: str = ""  # empty: the token sees every shop
    app_key: str = "demo-key"
    app_secret: SecretStr = SecretStr("demo-secret")
    access_token: SecretStr = SecretStr("demo-token")


class MarketplacesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[str] = ["tmall", "jd", "douyin"]
    credentials: dict[str, ShopCredential] = {}  # per channel (default: the demo one)
    push: bool = False  # POST released events to {hub_url}/push/{channel}
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _known(self) -> MarketplacesConfig:
        unknown = sorted(set(self.channels) - set(MARKETPLACE_MODULES))
        if unknown:
            raise ValueError(f"channels: unknown {unknown} (known: "
                             f"{', '.join(MARKETPLACE_MODULES)})")
        return self

    def credential(self, channel: str) -> ShopCredential:
        return self.credentials.get(channel, ShopCredential())


class SuiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: datetime | None = None  # business time zero (default: the trace's, else now)
    speedup: float = Field(default=1.0, gt=0)
    trace: Path | None = None
    hub_url: str = ""
    erp_follows_wms: bool = True
    only: list[str] | None = None  # start just these (names as in ``urls``)
    ports: dict[str, int] = {}  # fixed port per emulator (default: a free one)
    wms: WmsConfig = WmsConfig()
    erp: ErpConfig = ErpConfig()
    crm: CrmConfig = CrmConfig()
    dingtalk: DingTalkEmulatorConfig = DingTalkEmulatorConfig()
    marketplaces: MarketplacesConfig = MarketplacesConfig()

    @model_validator(mode="after")
    def _checked(self) -> SuiteConfig:
        if self.marketplaces.push and not self.hub_url:
            raise ValueError("marketplaces.push needs hub_url (where to push)")
        names = set(BACK_OFFICES) | set(MARKETPLACE_MODULES)
        for field, given in (("only", self.only or []), ("ports", self.ports)):
            unknown = sorted(set(given) - names)
            if unknown:
                raise ValueError(f"{field}: unknown emulators {unknown}")
        return self

    def wanted(self, name: str) -> bool:
        return self.only is None or name in self.only


def load_suite_config(path: Path | str) -> SuiteConfig:
    """Read a suite config (TOML); errors name the file and the field. A relative
    ``trace`` is taken from the config file's folder."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        config = SuiteConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '<file>'}: {e['msg']}"
            for e in exc.errors())) from None
    if config.trace is not None and not config.trace.is_absolute():
        config = config.model_copy(update={"trace": path.parent / config.trace})
    return config


def _stop(emulator: Any) -> None:
    try:
        emulator.stop()
    except Exception:
        log.exception("stopping %r failed", emulator)


class EmulatorSuite:
    """Starts the set on ``__enter__`` (or ``start()``), stops it on exit. ``urls`` maps
    each emulator's name to its base URL; ``suite["wms"]`` is the WMS's."""

    def __init__(self, config: SuiteConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or SuiteConfig()
        self.header = read_trace(self.config.trace)[0] if self.config.trace else None
        origin = self.config.origin or (self.header.origin if self.header else None)
        self.origin = (origin or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
        self.clock = clock or ScaledClock(self.origin, self.config.speedup)
        self.emulators: dict[str, Any] = {}
        self.states: dict[str, Any] = {}  # marketplace states, by channel
        self._push: list[Any] = []
        self._started: list[Any] = []
        self._urls: dict[str, str] = {}

    # -- building -------------------------------------------------------------------------
    def _port(self, name: str) -> int:
        return self.config.ports.get(name, 0)

    def _build_back_offices(self) -> None:
        c, clock, origin = self.config, self.clock, self.origin
        erp = ErpEmulator(clock, c.erp, port=self._port("erp"), origin=origin) \
            if c.wanted("erp") else None
        if c.wanted("wms"):
            wms_config = c.wms
            if c.hub_url and not wms_config.callback_url:
                wms_config = wms_config.model_copy(
                    update={"callback_url": f"{c.hub_url.rstrip('/')}/wms/status"})
            follow = erp.state.on_dispatch if erp is not None and c.erp_follows_wms else None
            self.emulators["wms"] = WmsEmulator(clock, wms_config, port=self._port("wms"),
                                                origin=origin, on_dispatch=follow)
        if erp is not None:
            self.emulators["erp"] = erp
        if c.wanted("crm"):
            self.emulators["crm"] = CrmEmulator(clock, c.crm, port=self._port("crm"),
                                                origin=origin)
        if c.wanted("dingtalk"):
            robot_clock = clock if c.dingtalk.business_time else Clock()
            self.emulators["dingtalk"] = DingTalkEmulator(
                robot_clock, c.dingtalk, port=self._port("dingtalk"),
                origin=robot_clock.now() if not c.dingtalk.business_time else origin,
                record_clock=clock)

    def _seed_from_trace(self) -> None:
        crm, erp = self.emulators.get("crm"), self.emulators.get("erp")
        want_crm = crm is not None and self.config.crm.seed_from_trace
        want_erp = erp is not None and self.config.erp.default_stock is not None
        if self.config.trace is None or not (want_crm or want_erp):
            return
        first_of_buyer: dict[str, Any] = {}  # one order per buyer is enough
        lines: set[tuple[str, str, str, str]] = set()
        for event in read_trace(self.config.trace)[1]:
            if (o := event.order) is not None:
                first_of_buyer.setdefault(o.buyer.id, o)
                lines.update((o.channel.value, o.shop, i.sku, i.outer_sku) for i in o.items)
        if want_crm:
            added = crm.state.seed_orders(first_of_buyer.values())
            log.info("CRM: %d buyers from the trace", added)
        if want_erp:
            # a listing the ERP's catalogue maps stocks its merchant SKUs
            skus = erp.state.merchant_skus(lines)
            log.info("ERP: %d SKUs stocked from the trace", erp.state.seed_skus(skus))

    def _build_marketplaces(self) -> None:
        """Hook: one emulator per channel whose module is there."""
        from sim.emulators.market_http import MarketplaceServer
        from sim.emulators.marketplace import Credential, MarketplaceState

        m = self.config.marketplaces
        for channel in m.channels:
            if not self.config.wanted(channel):
                continue
            try:
                module = importlib.import_module(MARKETPLACE_MODULES[channel])
            except ImportError as exc:
                log.warning("%s emulator not available (%s); skipped", channel, exc)
                continue
            cred = m.credential(channel)
            events = read_trace(self.config.trace)[1] if self.config.trace else ()
            state = MarketplaceState(
                events, self.clock, channel=channel, origin=self.origin, seed=m.seed,
                credentials=[Credential(cred.app_key, cred.app_secret.get_secret_value(),
                                        cred.access_token.get_secret_value(),
                                        cred.shop or None)],
                rate_limit_per_s=m.rate_limit_per_s)
            app = module.create_app(state)
            self.states[channel] = state
            self.emulators[channel] = MarketplaceServer(app, state, name=channel,
                                                        port=self._port(channel))
            if m.push:
                from sim.emulators.push import PushSender

                url = f"{self.config.hub_url.rstrip('/')}/push/{channel}"
                if cred.shop:
                    url += f"?shop={cred.shop}"
                # signed with the shop's app, as the hub's channel config knows it
                self._push.append(PushSender(
                    state, url, seed=m.seed, app_key=cred.app_key,
                    app_secret=cred.app_secret.get_secret_value()))

    # -- running --------------------------------------------------------------------------
    def start(self) -> EmulatorSuite:
        try:
            self._build_back_offices()
            self._seed_from_trace()
            self._build_marketplaces()
            for emulator in (*self.emulators.values(), *self._push):
                emulator.start()
                self._started.append(emulator)
            self._urls = {name: emulator.url for name, emulator in self.emulators.items()}
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the push senders, then every server at once (each takes ~0.2 s)."""
        senders = [e for e in self._started if e in self._push]
        servers = [e for e in self._started if e not in self._push]
        self._started = []
        for sender in senders:
            _stop(sender)
        if servers:
            with ThreadPoolExecutor(max_workers=len(servers)) as pool:
                list(pool.map(_stop, servers))

    def __enter__(self) -> EmulatorSuite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def urls(self) -> dict[str, str]:
        """Name -> base URL of every emulator started (kept after ``stop``)."""
        return dict(self._urls)

    def __getitem__(self, name: str) -> str:
        return self._urls[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.emulators)

    # -- for the hub and the reports -------------------------------------------------------
    def hub_settings(self) -> dict[str, Any]:
        """The hub settings that point at this set (``HubSettings(**suite.hub_settings())``
        or merged into a loaded config): back-office URLs, the first robot, channels."""
        urls = self.urls
        out: dict[str, Any] = {"back_office": {k + "_url": urls[k] for k in ("wms", "erp",
                                                                             "crm") if k in urls}}
        if "wms" in urls:  # the WMS signs its status callbacks with its own secret
            wms = self.config.wms
            out["back_office"]["wms_callback_secrets"] = {wms.warehouse: wms.callback_secret}
        if "dingtalk" in urls and self.config.dingtalk.robots:
            robot = self.config.dingtalk.robots[0]
            out["dingtalk"] = {"url": urls["dingtalk"], "access_token": robot.access_token,
                               "secret": robot.secret}
        channels = []
        for channel in self.states:
            cred = self.config.marketplaces.credential(channel)
            channels.append({"channel": channel, "shop": cred.shop, "base_url": urls[channel],
                             "app_key": cred.app_key, "app_secret": cred.app_secret,
                             "access_token": cred.access_token,
                             "push": self.config.marketplaces.push})
        if channels:
            out["channels"] = channels
        return out

    def records(self) -> dict[str, dict[str, Any]]:
        """Every emulator's own records (what its ``GET /_records`` answers), by name."""
        return {name: emulator.records() for name, emulator in self.emulators.items()}

    def write_records(self, out_dir: Path) -> dict[str, Path]:
        """Write ``out_dir/records/<name>.json`` for every emulator; ``{name: path}``."""
        folder = Path(out_dir) / "records"
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, emulator in self.emulators.items():
            path = folder / f"{name}.json"
            path.write_bytes(orjson.dumps(emulator.records()))
            written[name] = path
        return written

    def fast_forward_warehouse(self, factor: float) -> datetime:
        """The WMS's business time runs ``factor`` times as fast from now on (see the
        module's docstring for when it is safe); returns the WMS's time now."""
        wms = self.emulators.get("wms")
        if wms is None:
            raise RuntimeError("fast_forward_warehouse: the suite runs no WMS")
        return wms.fast_forward(factor)

    def stats(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """Every emulator's ``GET /_stats``."""
        out = {}
        with httpx.Client(timeout=timeout_s) as http:
            for name, url in self.urls.items():
                try:
                    out[name] = http.get(f"{url}/_stats").json()
                except httpx.HTTPError as exc:
                    out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        for sender in self._push:
            out.setdefault(sender.state.channel, {})["push"] = sender.stats()
        return out
