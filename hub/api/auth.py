"""Who may read and who may change: ``Authorization: Bearer <token>``, checked against
``api.token`` (its format and the roles: ``hub.roles``). Every change records the
holder's name. No token configured means nothing can be changed through the API.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request

from hub.config import ApiConfig
from hub.roles import OPERATOR, RULES_APPROVER, RULES_AUTHOR, VIEWER, parse_tokens


class Auth:
    """Checks bearer tokens against the configuration; holds the read policy."""

    def __init__(self, api: ApiConfig) -> None:
        self._tokens = parse_tokens(api.token.get_secret_value())
        self.read_requires_token = api.read_requires_token

    @property
    def writes_enabled(self) -> bool:
        return bool(self._tokens)

    def user_for(self, request: Request, role: str = VIEWER) -> str:
        """The user a request's bearer token names; 401 without one, 403 for a wrong one
        or one whose holder lacks ``role``."""
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise HTTPException(401, "this needs `Authorization: Bearer <token>`",
                                headers={"WWW-Authenticate": "Bearer"})
        if not self._tokens:
            raise HTTPException(403, "no api.token is configured: changes are disabled")
        given = given.strip()
        holder = next((h for secret, h in self._tokens.items()
                       if hmac.compare_digest(secret.encode(), given.encode())), None)
        if holder is None:
            raise HTTPException(403, "the bearer token is not valid",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if role not in holder.roles:
            raise HTTPException(403, f"{holder.name} may not do this: it needs the role {role}")
        return holder.name


def get_auth(request: Request) -> Auth:
    return request.app.state.auth


@functools.cache
def requires(role: str) -> Callable[[Request], str]:
    """A dependency for a change: the name of a valid token's holder who has ``role``."""

    def holder_with_role(request: Request) -> str:
        return get_auth(request).user_for(request, role)

    holder_with_role.__name__ = f"requires_{role}"
    return holder_with_role


def require_reader(request: Request) -> str | None:
    """Dependency for reads: a valid token when ``api.read_requires_token``, else nothing."""
    auth = get_auth(request)
    return auth.user_for(request) if auth.read_requires_token else None


# the dependencies that need a token for a change (the API's schema lists their 401/403)
CHANGE_GUARDS = frozenset(requires(role) for role in (OPERATOR, RULES_AUTHOR, RULES_APPROVER))
Reader = Depends(require_reader)
Operator = Depends(requires(OPERATOR))
RulesAuthor = Depends(requires(RULES_AUTHOR))
RulesApprover = Depends(requires(RULES_APPROVER))
