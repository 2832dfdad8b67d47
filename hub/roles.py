"""The API's tokens and the roles their holders have (``api.token``).

``api.token`` is a comma-separated list of entries, each one of

- ``TOKEN``: its holder is recorded as ``operator`` and may do everything;
- ``name:TOKEN``: the holder is ``name`` and may do everything;
- ``name:role+role:TOKEN``: ``name`` may do what those roles allow.

Roles: ``viewer`` (read the API and the page when reads are protected; every token may
read), ``operator`` (release, cancel, fix an address, re-send a dead letter),
``rules_author`` (check and dry-run a rule file), ``rules_approver`` (publish and roll
back).

>>> tokens = parse_tokens("alice:s3cret, bob:operator+rules_author:hunter22")
>>> tokens["s3cret"].name, sorted(tokens["hunter22"].roles)
('alice', ['operator', 'rules_author', 'viewer'])
>>> parse_tokens("just-a-token")["just-a-token"].name
'operator'
>>> parse_tokens("eve:admin:x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: api.token: eve names unknown role(s) admin; known: operator, ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_USER = "operator"
VIEWER, OPERATOR, RULES_AUTHOR, RULES_APPROVER = (
    "viewer", "operator", "rules_author", "rules_approver")
ROLES = frozenset({VIEWER, OPERATOR, RULES_AUTHOR, RULES_APPROVER})
_ROLE_LIST = re.compile(r"[a-z_]+(\+[a-z_]+)*")


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a token, and what they may do."""

    name: str
    roles: frozenset[str]


def parse_tokens(raw: str) -> dict[str, Holder]:
    """token -> its holder, from the configured ``api.token`` value."""
    tokens: dict[str, Holder] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":", 2)]
        if len(pieces) == 3 and _ROLE_LIST.fullmatch(pieces[1]) and pieces[0] and pieces[2]:
            roles = set(pieces[1].split("+"))
            unknown = sorted(roles - ROLES)
            if unknown:
                raise ValueError(f"api.token: {pieces[0]} names unknown role(s) "
                                 f"{', '.join(unknown)}; known: {', '.join(sorted(ROLES))}")
            tokens[pieces[2]] = Holder(pieces[0], frozenset(roles | {VIEWER}))
            continue
        name, sep, secret = part.partition(":")
        if sep and name.strip() and secret.strip():
            tokens[secret.strip()] = Holder(name.strip(), ROLES)
        else:
            tokens[part] = Holder(DEFAULT_USER, ROLES)
    return tokens
