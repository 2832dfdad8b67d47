"""The marketplaces sign their message pushes; the hub checks each as its platform signs it
(docs/push.md gives the sources and says what was assumed).

douyin  headers ``app-id``, ``event-sign`` and ``sign-method`` (``md5`` when absent, or
        ``hmac-sha256``) over the raw body: md5 = MD5(app_key + body + app_secret),
        hmac-sha256 = HMAC-SHA256 keyed with app_secret over the same text; lower-case hex.
        The time is each message's ``msg_time`` (checked by :meth:`PushGuard.check_time`).
tmall   query ``app_key``, ``timestamp`` ('YYYY-MM-DD HH:MM:SS', Beijing time),
        ``sign_method`` (md5 | hmac-sha256) and ``sign``: text = every other query
        parameter sorted by name, each name followed by its value, then the body;
        md5 = MD5(secret + text + secret), hmac-sha256 = HMAC-SHA256(secret, text);
        upper-case hex.
jd      query ``app_key``, ``timestamp``, ``v`` and ``sign``; the body signs as the
        parameter ``360buy_param_json``: MD5(secret + k1v1k2v2... + secret) over the query
        parameters and that one, sorted by name; upper-case hex.

A missing or wrong signature, an app key that is not the shop's, or a time outside the
window (``window_s`` either way) is refused with 401. A message id seen before (within
``seen_ttl_s``, at most ``seen_max`` remembered) is answered without being stored again.

>>> guard = PushGuard({("jd", "s"): PushCredential("k", "sec")}, now=lambda: 1.8e9)
>>> query = {"shop": "s", "app_key": "k", "timestamp": "2027-01-15 16:00:00", "v": "2.0"}
>>> query["sign"] = jd_signature(query, b"[]", "sec")
>>> guard.check("jd", "s", {}, query, b"[]").app_key
'k'
>>> guard.check("jd", "s", {}, query | {"sign": "0" * 32}, b"[]")
Traceback (most recent call last):
...
hub.api.push_signature.PushRefused: 401: the signature does not match
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.clock import SHANGHAI
from hub.errors import OrderHubError

SIGN_METHODS = ("md5", "hmac-sha256")
JD_BODY_PARAM = "360buy_param_json"


class PushRefused(OrderHubError):
    """A push the hub does not take; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(f"{status}: {reason}")


@dataclass(frozen=True)
class PushCredential:
    """The app a shop's pushes are signed with."""

    app_key: str
    app_secret: str

    def __repr__(self) -> str:  # the secret never prints
        return f"PushCredential(app_key={self.app_key!r})"


def _hex(method: str, secret: bytes, text: bytes) -> str:
    if method == "md5":
        return hashlib.md5(text).hexdigest()
    if method == "hmac-sha256":
        return hmac.new(secret, text, hashlib.sha256).hexdigest()
    raise PushRefused(401, f"sign method must be one of {SIGN_METHODS}")


def douyin_signature(app_key: str, body: bytes, secret: str, method: str = "md5") -> str:
    """Douyin shop's ``event-sign``: app_key + body + app_secret, MD5 or HMAC-SHA256."""
    text = app_key.encode() + body + secret.encode()
    return _hex(method, secret.encode(), text)


def _params_text(params: Mapping[str, str]) -> bytes:
    return "".join(k + params[k] for k in sorted(params) if k != "sign").encode()


def tmall_signature(params: Mapping[str, str], body: bytes, secret: str,
                    method: str = "md5") -> str:
    """Tmall's push sign: the sorted query parameters (all but ``sign``) then the body."""
    text = _params_text(params) + body
    if method == "md5":
        text = secret.encode() + text + secret.encode()
    return _hex(method, secret.encode(), text).upper()


def jd_signature(params: Mapping[str, str], body: bytes, secret: str) -> str:
    """JD's push sign: the body stands in the parameters as ``360buy_param_json``."""
    keys = sorted([k for k in params if k != "sign"] + [JD_BODY_PARAM])
    text = b"".join(k.encode() + (body if k == JD_BODY_PARAM else params[k].encode())
                    for k in keys)
    return _hex("md5", b"", secret.encode() + text + secret.encode()).upper()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.lower().encode(), given.lower().encode("utf-8",
                                                                               "replace"))


def beijing_epoch(stamp: str) -> float:
    """'YYYY-MM-DD HH:MM:SS' in Beijing time -> epoch seconds; ValueError if not that."""
    if len(stamp) != 19:
        raise ValueError(stamp)
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI).timestamp()


class SeenMessages:
    """Message ids taken in lately: at most ``max_size``, each for ``ttl_s`` seconds."""

    def __init__(self, max_size: int, ttl_s: float, now: Callable[[], float]) -> None:
        self.max_size, self.ttl_s, self.now = max_size, ttl_s, now
        self._until: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        until = self._until.get(key)
        return until is not None and until > self.now()

    def add(self, keys: Iterable[tuple[str, str]]) -> None:
        now = self.now()
        for key in keys:
            self._until.pop(key, None)
            self._until[key] = now + self.ttl_s
        while self._until:  # the oldest first: drop the expired and any past the bound
            key, until = next(iter(self._until.items()))
            if until > now and len(self._until) <= self.max_size:
                break
            del self._until[key]

    def __len__(self) -> int:
        return len(self._until)


class PushGuard:
    """Checks the signed pushes of the shops in ``credentials`` ((channel, shop) -> app;
    shop "": the app of every shop of that channel not named on its own)."""

    def __init__(self, credentials: Mapping[tuple[str, str], PushCredential], *,
                 window_s: float = 300.0, seen_max: int = 200_000, seen_ttl_s: float = 900.0,
                 now: Callable[[], float] = time.time) -> None:
        self.credentials, self.window_s, self.now = dict(credentials), window_s, now
        self.seen = SeenMessages(seen_max, seen_ttl_s, now)
        self.refused = 0
        self.duplicates = 0

    def shop_of(self, channel: str, shop: str) -> str:
        """The shop a push is for: as given, or the channel's only shop when none is."""
        if shop:
            return shop
        shops = [s for c, s in self.credentials if c == channel]
        return shops[0] if len(shops) == 1 else shop

    def check(self, channel: str, shop: str, headers: Mapping[str, str],
              query: Mapping[str, str], body: bytes) -> PushCredential:
        """The shop's credential when the push is signed by its app, fresh; else raises
        :class:`PushRefused` (401)."""
        try:
            return self._check(channel, shop, headers, query, body)
        except PushRefused:
            self.refused += 1
            raise

    def _check(self, channel: str, shop: str, headers: Mapping[str, str],
               query: Mapping[str, str], body: bytes) -> PushCredential:
        # a channel configured with no shop is one app for every shop
        cred = self.credentials.get((channel, shop)) or self.credentials.get((channel, ""))
        if cred is None:
            raise PushRefused(401, f"no push credentials here for {channel} shop "
                                   f"{shop[:64]!r}")
        if channel == "douyin":
            self._check_douyin(cred, headers, body)
            return cred  # the time is each message's; see check_time
        given, app_key = query.get("sign", ""), query.get("app_key", "")
        if not (given and app_key and query.get("timestamp")):
            raise PushRefused(401, "a signed push needs the query parameters app_key, "
                                   "timestamp and sign")
        if not hmac.compare_digest(app_key.encode(), cred.app_key.encode()):
            raise PushRefused(401, "app_key is not this shop's app")
        if channel == "tmall":
            method = query.get("sign_method") or "md5"
            expected = tmall_signature(query, body, cred.app_secret, method)
        else:
            expected = jd_signature(query, body, cred.app_secret)
        if not _same(expected, given):
            raise PushRefused(401, "the signature does not match")
        try:
            sent = beijing_epoch(query["timestamp"])
        except ValueError:
            raise PushRefused(401, "timestamp must be 'YYYY-MM-DD HH:MM:SS' (Beijing time)") \
                from None
        self.check_time(sent, "timestamp")
        return cred

    def _check_douyin(self, cred: PushCredential, headers: Mapping[str, str],
                      body: bytes) -> None:
        given, app_id = headers.get("event-sign", ""), headers.get("app-id", "")
        if not (given and app_id):
            raise PushRefused(401, "a signed push needs the headers app-id and event-sign")
        if not hmac.compare_digest(app_id.encode("utf-8", "replace"), cred.app_key.encode()):
            raise PushRefused(401, "app-id is not this shop's app")
        method = headers.get("sign-method") or "md5"
        if not _same(douyin_signature(cred.app_key, body, cred.app_secret, method.lower()),
                     given):
            raise PushRefused(401, "the signature does not match")

    def check_time(self, sent_s: float, what: str) -> None:
        """Refuse (401) a push or message stamped outside the window: a replay."""
        try:
            off = abs(self.now() - float(sent_s))
        except OverflowError:
            off = math.inf
        if not off <= self.window_s:  # NaN is outside too
            self.refused += 1
            raise PushRefused(401, f"{what} is more than {self.window_s:.0f} s from the "
                                   "hub's clock (a replay?)")

    def unseen(self, channel: str, msg_ids: Iterable[str]) -> list[bool]:
        """For each id, whether it is new: not taken in lately, nor earlier in this push."""
        out, here = [], set()
        for msg_id in msg_ids:
            key = (channel, msg_id)
            new = key not in self.seen and key not in here
            here.add(key)
            out.append(new)
        self.duplicates += out.count(False)
        return out

    def taken(self, channel: str, msg_ids: Iterable[str]) -> None:
        """Remember ids once the ledger holds their orders (not before: a push that
        failed must be taken when it comes again)."""
        self.seen.add((channel, msg_id) for msg_id in msg_ids)
