"""Schemathesis over the live demo hub's OpenAPI schema: every operation, with inputs
that fit the schema and inputs that do not, each sent without a token and with a valid
one, over real HTTP (``tests.api.live``: the API and the intake router over a seeded
SQLite ledger, served by ``ApiServer``).

Asserted for every response: no 5xx; no change accepted (2xx) without a valid token, and
no unsigned push or status callback accepted at all (4xx); no full mainland mobile
number that the request did not carry itself (the seeded orders hold full ones, the API
masks them); the status code, content type, headers and body match the schema.

Deterministic (derandomized Hypothesis, no example database) and bounded: a few examples
per operation and generation mode, plus the seeded orders' keys and phones where an
operation takes them. The test prints how many requests it made."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.live import TOKEN, VIEWER_TOKEN, LiveHub, live_hub
from tests.api.seed import PHONES

EXAMPLES = 25  # per operation and generation mode
SEEDED_EXAMPLES = 5  # per operation and seeded order (or phone)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# a mainland mobile number standing alone (not inside a longer run of digits)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# refused unless signed, token or not; their router (hub/api/intake.py, being rewritten
# for signed pushes) does not list its refusals yet, so their status codes are not checked
SIGNED = {"/push/{channel}", "/wms/status"}
ORDER_PAGE = "/api/orders/{channel}/{shop}/{order_id}"
WHO = ("no token", "wrong token", "viewer token", "token")
TOKENS = ({}, {"Authorization": "Bearer not-the-token"},
          {"Authorization": f"Bearer {VIEWER_TOKEN}"}, {"Authorization": f"Bearer {TOKEN}"})
@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    writes_without_token: int = 0
    known: Counter[str] = field(default_factory=Counter)
    order_pages: int = 0  # seeded orders shown (with their receivers' phones masked)

    def problem(self, what: str) -> None:
        if len(self.problems) < 5000:
            self.problems.append(what)


def leaked_phones(answer: str, sent: str) -> set[str]:
    """Full mobile numbers in ``answer`` that the request (``sent``) did not carry."""
    return set(PHONE.findall(answer)) - set(PHONE.findall(sent))


def _sent(response: Any) -> str:
    body = response.request.body or b""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return f"{response.request.url} {text}"


def exercise(case: Any, hub: LiveHub, session: Any, tally: Tally) -> None:
    """Send ``case`` without a token, with a wrong one and with a valid one; record what
    breaks the rules above."""
    for extra in TOKENS:
        response = case.call(base_url=hub.url, session=session, headers=dict(extra))
        tally.requests += 1
        status = response.status_code
        tally.statuses[status] += 1
        valid = extra is TOKENS[-1]
        label = (f"{case.method} {case.formatted_path} "
                 f"({WHO[TOKENS.index(extra)]}) -> {status}")
        if case.path in SIGNED and not 400 <= status < 500:
            tally.problem(f"{label}: an unsigned intake request not refused with a 4xx")
        elif (not valid and case.method != "GET"
              and 200 <= status < 300):
            tally.writes_without_token += 1
            tally.problem(f"{label}: a change accepted without a token")
        text = response.content.decode(errors="replace")
        if case.path == ORDER_PAGE and status == 200:
            tally.order_pages += 1
        leaked = leaked_phones(text, _sent(response))
        if leaked:
            tally.problem(f"{label}: full phone numbers {sorted(leaked)} in the answer")
        checks = [c for c in CHECKS if not (c is status_code_conformance
                                             and case.path in SIGNED)]
        try:
            case.validate_response(response, checks=checks, headers=dict(extra))
        except FailureGroup as exc:
            titles = "; ".join(sorted({f.title for f in exc.exceptions}))
            tally.problem(f"{label}: {titles}: {text[:300]}")


def run(strategy: st.SearchStrategy, examples: int, visit: Callable[[Any], None]) -> bool:
    """Whether any example could be made (an operation without parameters or a body has
    no invalid input)."""
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(strategy)
    def fuzz(case: Any) -> None:
        visit(case)

    try:
        fuzz()
    except Unsatisfiable:
        return False
    return True


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    with live_hub(tmp_path) as served:
        yield served


def seeded_variants(hub: LiveHub, operation: Any) -> list[dict[str, Any]]:
    """Strategy arguments that aim ``operation`` at what the ledger holds."""
    names = {p.name for p in operation.path_parameters}
    if names == {"channel", "shop", "order_id"}:
        return [{"path_parameters": {"channel": o.channel.value, "shop": o.shop,
                                     "order_id": o.order_id}}
                for o in hub.seeded.orders.values()]
    if operation.path == "/api/orders" and operation.method.upper() == "GET":
        keys = [o.order_id for o in hub.seeded.orders.values()]
        return [{"query": {"q": q}} for q in [*PHONES.values(), *(p[-4:] for p in
                                                                   PHONES.values()), *keys]]
    return []


def test_every_operation_with_and_without_a_token(hub: LiveHub, capsys) -> None:
    import requests

    began = time.monotonic()
    schema = schemathesis.openapi.from_url(hub.url + "/openapi.json")
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    with requests.Session() as session:
        def visit(case: Any) -> None:
            exercise(case, hub, session, tally)

        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                made = run(operation.as_strategy(generation_mode=mode), EXAMPLES, visit)
                assert made or mode is GenerationMode.NEGATIVE, operation.label
            for aimed in seeded_variants(hub, operation):
                run(operation.as_strategy(**aimed), SEEDED_EXAMPLES, visit)
    took = time.monotonic() - began
    with capsys.disabled():
        print(f"\nfuzzing: {tally.requests} requests over {len(operations)} operations in "
              f"{took:.1f} s; statuses {dict(sorted(tally.statuses.items()))}; server errors "
              f"{sum(n for s, n in tally.statuses.items() if s >= 500)}; changes accepted "
              f"without a valid token {tally.writes_without_token}")
        for what, count in tally.known.items():
            print(f"fuzzing: known, not failed ({count}x): {what}")
    assert not tally.problems, "\n".join(tally.problems)
    assert tally.statuses[200] > 0 and tally.requests > 500
    assert tally.order_pages >= 5  # the phone check saw every seeded order's page


def test_the_phone_check_sees_a_full_number_the_request_did_not_carry() -> None:
    assert leaked_phones('{"phone": "13900001111"}', "/api/orders?q=1111") == {"13900001111"}
    assert leaked_phones('{"phone": "139****1111"}', "/api/orders?q=1111") == set()
    assert leaked_phones('"q": "13900001111"', "/api/orders?q=13900001111") == set()
    assert leaked_phones("ts 1733900001111000", "") == set()  # inside a longer number
