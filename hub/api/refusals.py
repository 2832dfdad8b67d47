"""The refusals any route may answer besides its own, written into the OpenAPI schema so
that every status the API sends is documented (the fuzzer checks it):

- 408, 413, 429 (with Retry-After): the limits on what a client may send
  (``hub.api.limits``), on every route;
- 401, 403: on routes that need a token (changes, and reads when
  ``api.read_requires_token``);
- 400: on routes with a JSON body, when the body cannot be read at all (not UTF-8);
- 422: FastAPI's validation errors, also where a route documents its own 422 (a rule
  file refused): the schema then allows either shape.

>>> from fastapi import APIRouter, FastAPI
>>> app, router = FastAPI(), APIRouter()
>>> @router.get("/x")
... def x() -> dict:
...     return {}
>>> app.include_router(router)
>>> document_refusals(app, [router], reads_need_token=False)
>>> sorted(app.openapi()["paths"]["/x"]["get"]["responses"])
['200', '408', '413', '429']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import (
    validation_error_definition,
    validation_error_response_definition,
)
from fastapi.routing import APIRoute

from hub.api.auth import CHANGE_GUARDS, require_reader

REFUSAL = {"title": "Refusal", "type": "object", "required": ["detail"],
           "properties": {"detail": {"title": "Detail", "type": "string"}}}
VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}


def _refusal(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/json": {"schema": REFUSAL}}}
    if headers:
        answer["headers"] = headers
    return answer


LIMITS = {
    "408": _refusal("the request body did not arrive within api.body_timeout_s"),
    "413": _refusal("the body is over api.max_body_bytes, or the message carries more "
                    "than api.max_records records"),
    "429": _refusal("too many requests from this address (or pushes from this "
                    "marketplace): wait Retry-After seconds",
                    **{"Retry-After": {"description": "seconds to wait",
                                       "schema": {"type": "integer", "minimum": 1}}}),
}
TOKEN = {
    "401": _refusal("no `Authorization: Bearer <token>`"),
    "403": _refusal("the token is not valid, or no api.token is configured"),
}
UNREADABLE = {"400": _refusal("the body could not be read (e.g. not UTF-8)")}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _add(schema: dict[str, Any], routers: Iterable[APIRouter], reads_need_token: bool) -> None:
    guards = CHANGE_GUARDS | {require_reader} if reads_need_token else CHANGE_GUARDS
    for route in (r for router in routers for r in router.routes):
        if not (isinstance(route, APIRoute) and route.include_in_schema):
            continue
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            extra = dict(LIMITS)
            if guards & set(_calls(route.dependant)):
                extra |= TOKEN
            if route.body_field is not None:
                extra |= UNREADABLE
            for status, answer in extra.items():
                responses.setdefault(status, answer)
            own = responses.get("422", {}).get("content", {}).get("application/json", {})
            if own.get("schema") not in (None, VALIDATION):
                own["schema"] = {"anyOf": [own["schema"], VALIDATION]}
                components = schema.setdefault("components", {}).setdefault("schemas", {})
                components.setdefault("ValidationError", validation_error_definition)
                components.setdefault("HTTPValidationError",
                                      validation_error_response_definition)


def document_refusals(app: FastAPI, routers: Iterable[APIRouter], *,
                      reads_need_token: bool) -> None:
    """Make ``app.openapi()`` list the refusals above on each route of ``routers`` (the
    routers ``app`` includes) they apply to."""
    plain, routers, done = app.openapi, list(routers), [None]

    def openapi() -> dict[str, Any]:
        schema = plain()  # FastAPI's, made anew when routes were added since
        if schema is not done[0]:
            _add(schema, routers, reads_need_token)
            done[0] = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
