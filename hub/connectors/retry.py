"""What a marketplace call can end in, and how long to wait before the next attempt.

The errors are typed so a puller knows what to do: retry ``ServerError`` and
``ThrottledError`` (obeying ``retry_after``), stop on ``AuthError`` and
``RequestRejected``. ``RetryPolicy`` is exponential backoff with jitter. Importing
this module also keeps secret query parameters (Douyin sends its access token in
the URL) out of httpx's request log.

>>> import random
>>> policy = RetryPolicy(base_s=0.5, factor=2, max_s=3, jitter=0)
>>> [policy.delay(n, random.Random(1)) for n in range(4)]
[0.5, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import ClassVar

import httpx

from hub.errors import OrderHubError

SECRET_PARAMS = ("access_token", "session", "sign", "app_secret", "refresh_token")


class RedactQuery(logging.Filter):
    """httpx logs every request URL at INFO; Douyin puts the access token in the query.
    This filter blanks secret query parameters in those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(redact(a) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


def redact(url: httpx.URL) -> httpx.URL:
    if not any(key in url.params for key in SECRET_PARAMS):
        return url
    params = [(k, "***" if k in SECRET_PARAMS else v) for k, v in url.params.multi_items()]
    return url.copy_with(params=params)


if not any(isinstance(f, RedactQuery) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(RedactQuery())


class MarketplaceClientError(OrderHubError):
    """A call that failed; ``code`` / ``sub_code`` are the marketplace's when it sent one."""

    retryable: ClassVar[bool] = False

    def __init__(self, channel: str, message: str, code: str = "", sub_code: str = "") -> None:
        super().__init__(f"{channel}: {message}")
        self.channel, self.code, self.sub_code = channel, code, sub_code


class AuthError(MarketplaceClientError):
    """Bad app key, signature or access token: fix the credentials, do not retry."""


class RequestRejected(MarketplaceClientError):
    """The marketplace refused the request itself (bad window, page size ...)."""


class ServerError(MarketplaceClientError):
    """5xx, timeout, refused connection or an unreadable answer: worth retrying."""

    retryable = True

    def __init__(self, channel: str, message: str, code: str = "", sub_code: str = "",
                 status: int | None = None) -> None:
        super().__init__(channel, message, code, sub_code)
        self.status = status


class ThrottledError(MarketplaceClientError):
    """The marketplace's throttling error; ``retry_after`` (seconds) when it said."""

    retryable = True

    def __init__(self, channel: str, message: str, code: str = "", sub_code: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(channel, message, code, sub_code)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff ``base_s * factor**attempt`` capped at ``max_s``; ``jitter`` is the share
    of each delay drawn at random (0: none, 1: full jitter)."""

    max_retries: int = 6
    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 10.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random) -> float:
        full = min(self.max_s, self.base_s * self.factor ** attempt)
        return full * (1.0 - self.jitter * rng.random())
