"""Who may read and who may change: ``Authorization: Bearer <token>``.

``api.token`` is either one token (its holder is recorded as ``operator``) or a
comma-separated list of ``name:token`` pairs, so each action in the ledger names the
person who did it. No token configured means nothing can be changed through the API.

>>> tokens = parse_tokens("alice:s3cret, bob:hunter22")
>>> tokens["s3cret"], tokens["hunter22"]
('alice', 'bob')
>>> parse_tokens("just-a-token")
{'just-a-token': 'operator'}
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from hub.config import ApiConfig

DEFAULT_USER = "operator"


def parse_tokens(raw: str) -> dict[str, str]:
    """token -> user name, from the configured ``api.token`` value."""
    tokens: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, sep, secret = part.partition(":")
        if sep and name.strip() and secret.strip():
            tokens[secret.strip()] = name.strip()
        else:
            tokens[part] = DEFAULT_USER
    return tokens


class Auth:
    """Checks bearer tokens against the configuration; holds the read policy."""

    def __init__(self, api: ApiConfig) -> None:
        self._tokens = parse_tokens(api.token.get_secret_value())
        self.read_requires_token = api.read_requires_token

    @property
    def writes_enabled(self) -> bool:
        return bool(self._tokens)

    def user_for(self, request: Request) -> str:
        """The user a request's bearer token names; 401 without one, 403 for a wrong one."""
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise HTTPException(401, "this needs `Authorization: Bearer <token>`",
                                headers={"WWW-Authenticate": "Bearer"})
        if not self._tokens:
            raise HTTPException(403, "no api.token is configured: changes are disabled")
        given = given.strip()
        for secret, user in self._tokens.items():
            if hmac.compare_digest(secret.encode(), given.encode()):
                return user
        raise HTTPException(403, "the bearer token is not valid",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def get_auth(request: Request) -> Auth:
    return request.app.state.auth


def require_writer(request: Request) -> str:
    """Dependency for changes: the user name of a valid token."""
    return get_auth(request).user_for(request)


def require_reader(request: Request) -> str | None:
    """Dependency for reads: a valid token when ``api.read_requires_token``, else nothing."""
    auth = get_auth(request)
    return auth.user_for(request) if auth.read_requires_token else None


Reader = Depends(require_reader)
Writer = Depends(require_writer)
