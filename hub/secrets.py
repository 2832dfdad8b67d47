"""Where the hub's secrets come from, and how they are kept out of sight.

Each secret is looked up, first found wins:

1. the environment: for a shop, a variable keyed by the shop's name,
   ``ORDERHUB_SHOP_<SHOP>__APP_SECRET`` and ``ORDERHUB_SHOP_<SHOP>__ACCESS_TOKEN``
   (``<SHOP>``: the shop name in capitals, every other character ``_``); for DingTalk and
   the API, the settings' own ``ORDERHUB_DINGTALK__SECRET``,
   ``ORDERHUB_DINGTALK__ACCESS_TOKEN``, ``ORDERHUB_API__TOKEN``;
2. the config file;
3. a file in the secrets directory (``secrets_dir``, one file per secret, as container
   platforms mount them), for a secret the two above left empty or at a demo value:
   ``<shop>.app_secret``, ``<shop>.access_token``, ``dingtalk.secret``,
   ``dingtalk.access_token``, ``api.token``.

Outside ``--demo`` the hub refuses to start with a secret missing or left at the demo
value (:func:`secret_problems`). What is printed of the settings has every secret
redacted and the ledger address's password masked (:func:`redacted`, :func:`mask_url`).

>>> shop_variable("tmall-flagship", "app_secret")
'ORDERHUB_SHOP_TMALL_FLAGSHIP__APP_SECRET'
>>> mask_url("postgresql://hub:s3cret@db:5432/orders")
'postgresql://hub:***@db:5432/orders'
>>> mask_url("var/orderhub.sqlite3")
'var/orderhub.sqlite3'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from hub.config import HubSettings

# the values the emulators and `orderhub run --demo` use; never good enough for real shops
DEMO_VALUES = frozenset({"demo-secret", "demo-token", "SECdemo-secret", "demo-wms-callback"})
SHOP_SECRETS = ("app_secret", "access_token")
REDACTED = "**********"


def shop_variable(shop: str, field: str) -> str:
    """The environment variable that holds ``field`` of ``shop``."""
    return f"ORDERHUB_SHOP_{re.sub(r'[^A-Z0-9]', '_', shop.upper())}__{field.upper()}"


def _read(secrets_dir: Path | None, name: str) -> str | None:
    if secrets_dir is None:
        return None
    path = secrets_dir / name
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def _unset(value: Any) -> bool:
    text = value.get_secret_value()
    return not text or text in DEMO_VALUES


def fill_secrets(settings: HubSettings, environ: Mapping[str, str],
                 secrets_dir: Path | None) -> HubSettings:
    """``settings`` with each secret taken from where it is kept (this module's order)."""
    channels = []
    for channel in settings.channels:
        found: dict[str, str] = {}
        for field in SHOP_SECRETS:
            value = environ.get(shop_variable(channel.shop, field))
            if not value and _unset(getattr(channel, field)):
                value = _read(secrets_dir, f"{channel.shop}.{field}")
            if value:
                found[field] = value
        channels.append(channel.model_copy(update=_secret_update(found)) if found else channel)
    update: dict[str, Any] = {"channels": channels}
    talk = {f: v for f in ("secret", "access_token")
            if _unset(getattr(settings.dingtalk, f))
            and (v := _read(secrets_dir, f"dingtalk.{f}"))}
    if talk:
        update["dingtalk"] = settings.dingtalk.model_copy(update=_secret_update(talk))
    token = _read(secrets_dir, "api.token") if _unset(settings.api.token) else None
    if token:
        update["api"] = settings.api.model_copy(update=_secret_update({"token": token}))
    return settings.model_copy(update=update)


def _secret_update(values: Mapping[str, str]) -> dict[str, Any]:
    from pydantic import SecretStr

    return {k: SecretStr(v) for k, v in values.items()}


def secret_problems(settings: HubSettings) -> list[str]:
    """Every secret a hub outside ``--demo`` lacks or has left at a demo value."""
    problems = []
    for n, channel in enumerate(settings.channels):
        for field in SHOP_SECRETS:
            value = getattr(channel, field).get_secret_value()
            if _unset(getattr(channel, field)):
                what = "is not set" if not value else "is the demo value"
                problems.append(
                    f"channels[{n}] ({channel.channel.value}/{channel.shop}): {field} {what}; "
                    f"set {shop_variable(channel.shop, field)} or the file "
                    f"<secrets_dir>/{channel.shop}.{field}")
    talk = settings.dingtalk
    if talk.url:
        for field in ("access_token", "secret"):
            value = getattr(talk, field).get_secret_value()
            if _unset(getattr(talk, field)):
                what = "is not set" if not value else "is the demo value"
                problems.append(f"dingtalk.{field} {what}; set ORDERHUB_DINGTALK__"
                                f"{field.upper()} or the file <secrets_dir>/dingtalk.{field}")
    office = settings.back_office
    if office.wms_url and not office.wms_callback_secrets:
        problems.append("back_office.wms_callback_secrets is empty: every WMS status callback "
                        "would be refused; give each warehouse's name its secret")
    for name, secret in office.wms_callback_secrets.items():
        if _unset(secret):
            problems.append(f"back_office.wms_callback_secrets.{name} is not set or a demo value")
    if not settings.api.token.get_secret_value():
        problems.append("api.token is not set: nobody could release an order or publish rules; "
                        "set ORDERHUB_API__TOKEN or the file <secrets_dir>/api.token")
    return problems


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def redacted(settings: HubSettings) -> dict[str, Any]:
    """The effective settings as plain data, every secret redacted, the ledger masked."""
    data = settings.model_dump(mode="json")
    data["ledger"] = mask_url(settings.ledger)
    return data
