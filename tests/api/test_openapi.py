"""The OpenAPI schema matches what the endpoints return: responses are validated against
the schema /openapi.json publishes."""

from __future__ import annotations

import jsonschema
import pytest

from tests.api.conftest import AUTH


def validate(doc: dict, path: str, method: str, status: int, body: object) -> None:
    operation = doc["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    assert schema, f"{method.upper()} {path} {status} has an empty schema"
    jsonschema.validate(body, {**schema, "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)


@pytest.fixture
def doc(hub):
    r = hub.client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def test_every_api_route_declares_its_response(doc):
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            schema = operation["responses"][ok]["content"]["application/json"]["schema"]
            assert "$ref" in schema, (method, path)


def test_read_responses_match_the_schema(hub, doc):
    fast = hub.seeded.orders["fast"]
    for path, url in (
        ("/api/orders", f"/api/orders?q={fast.order_id}"),
        ("/api/orders/{channel}/{shop}/{order_id}", f"/api/orders/{hub.key_path('held')}"),
        ("/api/lanes", "/api/lanes"),
        ("/api/throughput", "/api/throughput"),
        ("/api/anomalies", "/api/anomalies"),
        ("/api/rules", "/api/rules"),
        ("/api/rules/{version}", "/api/rules/1"),
        ("/healthz", "/healthz"),
    ):
        r = hub.client.get(url)
        assert r.status_code == 200, url
        validate(doc, path, "get", 200, r.json())


def test_change_and_refusal_responses_match_the_schema(hub, doc):
    r = hub.client.post(f"/api/orders/{hub.key_path('held')}/release", json={"note": "ok"},
                        headers=AUTH)
    validate(doc, "/api/orders/{channel}/{shop}/{order_id}/release", "post", 200, r.json())
    r = hub.client.post("/api/rules/drafts", json={"text": "version: 0\n"}, headers=AUTH)
    assert r.status_code == 422
    validate(doc, "/api/rules/drafts", "post", 422, r.json())
    r = hub.client.post("/api/rules/dry-run", json={"text": "version: 5\nname: x\n", "n": 5},
                        headers=AUTH)
    assert r.status_code == 200
    validate(doc, "/api/rules/dry-run", "post", 200, r.json())
    r = hub.client.post("/api/rules/check", json={"text": "version: 5\nname: x\n"},
                        headers=AUTH)
    validate(doc, "/api/rules/check", "post", 200, r.json())
