"""Request signatures of the marketplace open platforms (pure functions, stdlib only).

Taobao TOP and JD sign every request parameter except ``sign`` itself: the
parameters sorted by name, each name directly followed by its value, wrapped in
the app secret, hashed, upper-case hex. Douyin shop signs a fixed list
(app_key, method, param_json, timestamp, v) the same way, then HMAC-SHA256 with
the secret as key, lower-case hex; ``param_json`` is the business body as JSON
with sorted keys and no spaces.

>>> top_sign({"method": "taobao.time.get", "app_key": "k"}, "s")
'1987BB4F69505F9B2A13235956CF6360'
>>> top_sign({"method": "taobao.time.get", "app_key": "k"}, "s") == jd_sign(
...     {"method": "taobao.time.get", "app_key": "k"}, "s")
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

TOP_SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def _concat(params: Mapping[str, Any]) -> str:
    return "".join(f"{key}{params[key]}" for key in sorted(params)
                   if key != "sign" and params[key] not in (None, ""))


def top_sign(params: Mapping[str, Any], secret: str, sign_method: str = "md5") -> str:
    """Taobao TOP: md5 = MD5(secret + k1v1k2v2... + secret); hmac = HMAC-MD5 and
    hmac-sha256 = HMAC-SHA256 of k1v1k2v2... keyed with the secret."""
    text = _concat(params)
    if sign_method == "md5":
        digest = hashlib.md5((secret + text + secret).encode()).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"sign_method must be one of {TOP_SIGN_METHODS}, got {sign_method!r}")
    return digest.upper()


def jd_sign(params: Mapping[str, Any], secret: str) -> str:
    """JD open platform: MD5(secret + k1v1k2v2... + secret), upper-case hex."""
    return hashlib.md5((secret + _concat(params) + secret).encode()).hexdigest().upper()


def douyin_param_json(body: Any) -> str:
    """The business parameters as Douyin signs them: sorted keys, no spaces, UTF-8."""
    return json.dumps(body if body is not None else {}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def douyin_sign(app_key: str, method: str, param_json: str, timestamp: str, v: str,
                secret: str, sign_method: str = "hmac-sha256") -> str:
    """Douyin shop: secret + app_key.. method.. param_json.. timestamp.. v.. + secret,
    HMAC-SHA256 keyed with the secret (or plain MD5 for ``sign_method`` md5), hex."""
    text = (f"{secret}app_key{app_key}method{method}param_json{param_json}"
            f"timestamp{timestamp}v{v}{secret}")
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    if sign_method == "md5":
        return hashlib.md5(text.encode()).hexdigest()
    raise ValueError(f"sign_method must be hmac-sha256 or md5, got {sign_method!r}")


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures (case-insensitive hex)."""
    return hmac.compare_digest(expected.lower().encode(), str(given).lower().encode())
