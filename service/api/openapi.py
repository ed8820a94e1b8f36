"""OpenAPI 3.1 generated from the declared endpoints and their pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.api.problems import PROBLEM_JSON, Problem
from service.api.routing import Endpoint

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    400: "Bad request",
    401: "Missing, unknown or revoked API key",
    403: "The key's role or stores do not allow this",
    404: "Not found",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request (field errors)",
    503: "A dependency is unavailable",
}

Mode = Literal["validation", "serialization"]


def _models(endpoints: Iterable[Endpoint]) -> list[tuple[type[BaseModel], Mode]]:
    seen: dict[tuple[type[BaseModel], Mode], None] = {(Problem, "serialization"): None}
    for ep in endpoints:
        if ep.body:
            seen[(ep.body, "validation")] = None
        if ep.query:
            seen[(ep.query, "validation")] = None
        for model in ep.responses.values():
            if model:
                seen[(model, "serialization")] = None
    return list(seen)


def _ref(model: type[BaseModel], mode: Mode, refs: dict[Any, Any]) -> dict[str, Any]:
    return dict(refs[(model, mode)])


def _parameters(ep: Endpoint, schemas: dict[str, Any], refs: dict[Any, Any]) -> list[Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(ep.path)
    ]
    if ep.query:
        ref = _ref(ep.query, "validation", refs)["$ref"].rsplit("/", 1)[-1]
        schema = schemas[ref]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                    **({"description": prop["description"]} if "description" in prop else {}),
                }
            )
    if ep.idempotent_key:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Same key and body replays the first answer; a new body is 409.",
                "schema": {"type": "string", "maxLength": 200},
            }
        )
    return params


def _operation(ep: Endpoint, schemas: dict[str, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in ep.responses.items():
        entry: dict[str, Any] = {"description": _REASONS.get(status, "OK")}
        if model is not None:
            entry["content"] = {ep.content_type: {"schema": _ref(model, "serialization", refs)}}
        elif ep.content_type != "application/json":
            entry["content"] = {ep.content_type: {"schema": {"type": "string"}}}
        responses[str(status)] = entry
    problems = set(ep.problems) | ({401, 403, 503} if not ep.public else set())
    problems.add(400)  # any request: a request line, URL or header over the server's limits
    if _PATH_PARAM.search(ep.path):
        problems.add(422)  # a path parameter with a NUL character
    if ep.body:
        problems |= {400, 413, 415, 422}
    if ep.query:
        problems.add(422)
    for status in sorted(problems):
        responses[str(status)] = {
            "description": _REASONS.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": _ref(Problem, "serialization", refs)}},
        }
        if status == 503:
            responses["503"]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
    op: dict[str, Any] = {
        "operationId": ep.name,
        "summary": ep.summary,
        "tags": list(ep.tags),
        "responses": responses,
        "security": [] if ep.public else [{"bearerAuth": []}],
    }
    if not ep.public:
        op["description"] = "Roles: " + ", ".join(sorted(ep.roles)) + "."
    params = _parameters(ep, schemas, refs)
    if params:
        op["parameters"] = params
    if ep.body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(ep.body, "validation", refs)}},
        }
    return op


def build_openapi(endpoints: Iterable[Endpoint], *, version: str) -> dict[str, Any]:
    eps = list(endpoints)
    refs, defs = models_json_schema(_models(eps), ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for ep in sorted(eps, key=lambda e: (e.path, e.method)):
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", ep.path)
        paths.setdefault(path, {})[ep.method.lower()] = _operation(ep, schemas, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "omnistock",
            "version": version,
            "description": "Store stock, e-reservations and click-and-collect between a "
            "PrestaShop storefront and Cegid Retail Y2.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key"}
            },
        },
    }
