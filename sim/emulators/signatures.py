"""The platforms' request signatures as the emulators check them: written here on their
own, never imported from the hub, so a mistake in the hub's signing cannot pass unseen
by being made twice. Each doctest value was computed with OpenSSL, not with this code:

>>> top("s", {"method": "taobao.time.get", "app_key": "k"})
'1987BB4F69505F9B2A13235956CF6360'

(``printf 'sapp_keykmethodtaobao.time.gets' | openssl md5``)

>>> top("s", {"method": "taobao.time.get", "app_key": "k"}, "hmac")
'5A11B23D72F44ADC5217D3BFF6C5D104'
>>> top("s", {"method": "taobao.time.get", "app_key": "k"}, "hmac-sha256")
'2F8D07163AB667B47BA8355E82B4225BAB104CE3C897CD329A50E9BE9194F6EB'

(``printf 'app_keykmethodtaobao.time.get' | openssl dgst -md5 -hmac s``, likewise -sha256)

>>> douyin("s", "k", "m.x", '{"a":1}', "1", "2")
'e70effd1b8d42e09b7c5f124d4108611aca454ceafd6a06eccc96b2d647a6941'

(``printf 'sapp_keykmethodm.xparam_json{"a":1}timestamp1v2s' | openssl dgst -sha256 -hmac s``)

>>> dingtalk("SECx", 1000)
'RQ/3mAnYUcXAHjmGnPKCONFkjFL8SG/YdWxezxqqRkY='

(``printf '1000\\nSECx' | openssl dgst -sha256 -hmac SECx -binary | base64``)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

TOP_METHODS = {"md5": None, "hmac": "md5", "hmac-sha256": "sha256"}  # name -> HMAC digest


def _pairs(params: Mapping[str, Any]) -> bytes:
    """Every parameter but ``sign`` and the empty ones, by name, name then value."""
    kept = sorted((str(k), str(v)) for k, v in params.items()
                  if k != "sign" and v is not None and v != "")
    return b"".join(k.encode("utf-8") + v.encode("utf-8") for k, v in kept)


def top(secret: str, params: Mapping[str, Any], method: str = "md5") -> str:
    """Taobao/Tmall TOP: MD5 over the pairs wrapped in the secret, or HMAC of the pairs."""
    key = secret.encode("utf-8")
    if method not in TOP_METHODS:
        raise ValueError(f"unknown sign_method {method!r}")
    digest = TOP_METHODS[method]
    mac = (hashlib.md5(key + _pairs(params) + key) if digest is None
           else hmac.new(key, _pairs(params), digest))
    return mac.hexdigest().upper()


def jd(secret: str, params: Mapping[str, Any]) -> str:
    """JD open platform: MD5 over the pairs wrapped in the secret, upper-case hex."""
    key = secret.encode("utf-8")
    return hashlib.md5(key + _pairs(params) + key).hexdigest().upper()


def douyin_body(body: Any) -> str:
    """``param_json``: the business body with sorted keys and no spaces."""
    return json.dumps({} if body is None else body, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def douyin(secret: str, app_key: str, method: str, param_json: str, timestamp: str, v: str,
           sign_method: str = "hmac-sha256") -> str:
    """Douyin shop: a fixed list of parameters wrapped in the secret, HMAC-SHA256 keyed
    with the secret (or MD5), lower-case hex."""
    fields = (("app_key", app_key), ("method", method), ("param_json", param_json),
              ("timestamp", timestamp), ("v", v))
    text = (secret + "".join(name + value for name, value in fields) + secret).encode("utf-8")
    if sign_method == "md5":
        return hashlib.md5(text).hexdigest()
    if sign_method != "hmac-sha256":
        raise ValueError(f"unknown sign_method {sign_method!r}")
    return hmac.new(secret.encode("utf-8"), text, hashlib.sha256).hexdigest()


def dingtalk(secret: str, timestamp_ms: int) -> str:
    """A DingTalk robot's ``sign``: base64 HMAC-SHA256 of "timestamp\\nsecret"."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message,
                                     hashlib.sha256).digest()).decode("ascii")


def matches(expected: str, given: Any) -> bool:
    """Constant-time, case-insensitive comparison of two hex or base64 signatures."""
    return hmac.compare_digest(expected.lower().encode(), str(given).lower().encode())
