"""OpenAPI 3.1 generated from the declared endpoints and their pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.api.examples import GENERIC, OPERATIONS, PROBLEM_TYPES, OperationExamples
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
    423: "Locked (too many wrong pickup codes)",
    503: "A dependency is unavailable",
}

# (name in the code, name shown, description), in the order a storefront developer reads them
TAGS: tuple[tuple[str, str, str], ...] = (
    (
        "stores",
        "Stores",
        "The store directory: a store locator's list, nearest first, with opening hours, "
        "whether a store is open now and the services it offers.",
    ),
    (
        "availability",
        "Availability",
        "What a product page and a basket show: units we can promise (ATP) per store, near the "
        "shopper or in named stores, and the stores that can serve a whole basket.",
    ),
    (
        "items",
        "Items",
        "Any identifier (SKU, EAN/UPC, PrestaShop id_product + id_product_attribute, reference) "
        "resolved to our item, to check a storefront's mapping.",
    ),
    (
        "pickups",
        "Pickups",
        "Reservations and click-and-collect orders: the storefront creates them (with an "
        "Idempotency-Key), reads and cancels them. Stock is held until collection or expiry.",
    ),
    (
        "staff",
        "Staff",
        "The store's side of a pickup: the staff console's sign-in (a session cookie), the "
        "queue of a store (searchable, with counts per state), prepared, handed over against "
        "the customer's pickup code. Staff keys act on their own stores only.",
    ),
    (
        "loyalty",
        "Customers and loyalty",
        "Who a shopper is in Cegid (by customer id, e-mail or PrestaShop id) with their "
        "in-store receipts and web orders; their cards and unified points balance (Cegid "
        "points less open holds), and redemption holds at checkout: hold, then commit or "
        "release.",
    ),
    (
        "prices",
        "Prices",
        "An item's store price with its markdown, and a basket priced by the promotions engine "
        "with every discount explained. Amounts are decimal strings.",
    ),
    (
        "promotions",
        "Promotions",
        "The basket rules that apply now on a channel and in a store.",
    ),
    (
        "admin",
        "Admin",
        "Admin keys only: API keys, the store directory, PrestaShop mapping, promotion rules, "
        "the outbox towards Cegid, loyalty posts to settle by hand.",
    ),
    (
        "ops",
        "Operations",
        "No key needed: liveness, readiness, Prometheus metrics, this document and its pages.",
    ),
)
_TAG_NAMES = {key: name for key, name, _ in TAGS}
_TAG_RANK = {key: n for n, (key, _, _) in enumerate(TAGS)}

DESCRIPTION = """Store stock, e-reservations and click-and-collect between a PrestaShop \
storefront and Cegid Retail Y2.

**New here?** The [Getting started guide](docs/getting-started) walks through the storefront's \
three flows with curl: availability near the shopper, a click-and-collect order, the staff \
handover.

**Keys.** Send `Authorization: Bearer <key>` (the *Authorize* button here; `./dev demo` prints a \
key per role). Roles: `storefront`, `staff` (bound to stores), `admin`.

**Conventions.** JSON under `/v1`. Store codes are `store_id` in answers and bodies; a query \
names stores with `store` (repeatable). Items are named by exactly one of `sku`, `ean`, \
`ps_product` (+ `ps_attribute`) or `reference`; answers echo them as `ps_product_id` / \
`ps_attribute_id`. Money is a decimal string beside its `currency`. Times are RFC 3339 in UTC \
(`...Z`). Lists page with `limit` and `cursor`; an answer's `next_cursor` is null on the last \
page. "Near" is `near=LAT,LNG` with `radius_km` and `limit` beside it, in a query as in a body.

**Errors** are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json` \
with a stable `type`, and change nothing:

| type | status | when | extra members |
| --- | --- | --- | --- |
"""


def _problem_table() -> str:
    rows = [f"| `{p.uri}` | {p.status} | {p.when} | {p.members or '-'} |" for p in PROBLEM_TYPES]
    return DESCRIPTION + "\n".join(rows) + "\n"


def _examples(named: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    return {name: {"summary": summary, "value": value} for name, (summary, value) in named.items()}


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


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an optional one is simply absent, never null, so its
    ``anyOf [X, null]`` with a null default is shown as X."""
    schema = {k: v for k, v in prop.items() if k != "title"}
    branches = schema.get("anyOf", [])
    kept = [b for b in branches if b.get("type") != "null"]
    if len(kept) == 1 and len(branches) == 2:
        del schema["anyOf"]
        schema = {**kept[0], **schema}
        if "default" in schema and schema["default"] is None:
            del schema["default"]
    return schema


def _parameters(
    ep: Endpoint, schemas: dict[str, Any], refs: dict[Any, Any], ex: OperationExamples
) -> list[Any]:
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
                    "schema": _query_schema(prop),
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
    for param in params:
        if param["name"] in ex.params:
            param["example"] = ex.params[param["name"]]
    return params


def _session_problems(ep: Endpoint) -> dict[int, list[str]]:
    """A staff endpoint also takes the console's session cookie: 401 once the session has
    ended, and a write refused as cross-site (no same origin or no X-CSRF-Token)."""
    if ep.public or "staff" not in ep.roles:
        return {}
    found = {401: ["session-ended"]}
    if ep.method not in ("GET", "HEAD", "OPTIONS"):
        found[403] = ["cross-site-request"]
    return found


def _problem_examples(
    status: int, ex: OperationExamples, extra: dict[int, list[str]]
) -> dict[str, Any]:
    """The operation's own problem examples of this status, then a reference to the documented
    example of each other problem type it can answer with this status."""
    own = _examples(ex.problems.get(status, {}))
    given = {e["value"]["type"].rsplit(":", 1)[-1] for e in own.values()}
    for slug in GENERIC.get(status, []) + ex.problem_types.get(status, []) + extra.get(status, []):
        if slug not in given:
            own[slug] = {"$ref": f"#/components/examples/problem-{slug}"}
    return own


def _security(ep: Endpoint) -> list[dict[str, list[str]]]:
    if ep.public:
        return []
    # the staff console's session cookie stands for a staff key (writes also need X-CSRF-Token)
    schemes = ["bearerAuth"] + (["staffSession"] if "staff" in ep.roles else [])
    return [{name: []} for name in schemes]


def _operation(ep: Endpoint, schemas: dict[str, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    ex = OPERATIONS.get(ep.name, OperationExamples())
    responses: dict[str, Any] = {}
    for status, model in ep.responses.items():
        entry: dict[str, Any] = {"description": _REASONS.get(status, "OK")}
        examples = _examples(ex.responses.get(status, {}))
        if model is not None:
            entry["content"] = {ep.content_type: {"schema": _ref(model, "serialization", refs)}}
        elif ep.content_type != "application/json" or examples:
            schema = {"type": "string"} if ep.content_type != "application/json" else {}
            entry["content"] = {ep.content_type: {"schema": schema}}
        if examples and "content" in entry:
            entry["content"][ep.content_type]["examples"] = examples
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
            "content": {
                PROBLEM_JSON: {
                    "schema": _ref(Problem, "serialization", refs),
                    "examples": _problem_examples(status, ex, _session_problems(ep)),
                }
            },
        }
        if status == 503:
            responses["503"]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
    admin_only = ep.roles == {"admin"}
    tags = ["admin"] if admin_only else list(ep.tags)
    op: dict[str, Any] = {
        "operationId": ep.name,
        "summary": ep.summary,
        "tags": [_TAG_NAMES.get(t, t) for t in tags],
        "responses": responses,
        "security": _security(ep),
    }
    if not ep.public:
        op["description"] = "Roles: " + ", ".join(sorted(ep.roles)) + "."
    params = _parameters(ep, schemas, refs, ex)
    if params:
        op["parameters"] = params
    if ep.body:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ref(ep.body, "validation", refs),
                    "examples": _examples(ex.request),
                }
            },
        }
    return op


def _rank(ep: Endpoint, index: int) -> tuple[int, int]:
    tag = "admin" if ep.roles == {"admin"} else (ep.tags[0] if ep.tags else "")
    return _TAG_RANK.get(tag, len(TAGS)), index


def build_openapi(endpoints: Iterable[Endpoint], *, version: str) -> dict[str, Any]:
    eps = [ep for ep in endpoints if ep.documented]
    refs, defs = models_json_schema(_models(eps), ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = defs.get("$defs", {})
    # paths in reading order: by the tag of their first operation, then as declared
    ranked = sorted(range(len(eps)), key=lambda n: _rank(eps[n], n))
    order: dict[str, tuple[int, int]] = {}
    for n in ranked:
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", eps[n].path)
        order.setdefault(path, _rank(eps[n], n))
    paths: dict[str, dict[str, Any]] = {path: {} for path in sorted(order, key=order.__getitem__)}
    for ep in eps:
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", ep.path)
        paths[path][ep.method.lower()] = _operation(ep, schemas, refs)
    used = {t for ops in paths.values() for op in ops.values() for t in op["tags"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "omnistock", "version": version, "description": _problem_table()},
        "externalDocs": {
            "description": "Getting started: the storefront's first calls",
            "url": "docs/getting-started",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for _, name, text in TAGS if name in used],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "examples": {
                f"problem-{p.slug}": {"summary": p.title, "value": p.example} for p in PROBLEM_TYPES
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `Authorization: Bearer osk_...`",
                },
                "staffSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "omnistock_staff",
                    "description": "Staff console session (POST /v1/staff/session); writes "
                    "must also come from the console's origin and send X-CSRF-Token.",
                },
            },
        },
    }
