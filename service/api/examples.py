"""Examples of the OpenAPI document: a request and an answer for every operation, and every
problem type with its own example.

The values come from the demo (``./dev demo``: seed 42, stores S001 Paris to S012 Reims, SKUs
such as SN00001-ROU-38, customers such as C0000001 Gabriel Garcia with card LC0000000001), taken
from real answers and trimmed. ``tests/api/test_docs.py`` checks that every operation has them,
that requests validate against the request models and answers against the answer models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.errors import PROBLEM_BASE

Example = tuple[str, Any]  # (summary, value)


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    when: str
    example: dict[str, Any]
    members: str = ""  # extra members beside the RFC 9457 ones

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


def _problem(
    slug: str, status: int, title: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": "9d8e4c77496c3e610000000000000024",
        **extra,
    }


PICKUP_ID = "139be44e-22e8-4095-beaf-ff2576585a38"
KEY_MISSING_DETAIL = (
    "this pickup's code was stored under pickup-code key 3f1c9a0d52be, which this server does "
    "not have: add the former OMNISTOCK_REPLAY_KEY to OMNISTOCK_REPLAY_KEY_PREVIOUS; or a "
    "manager hands over manually"
)
HOLD_ID = "cd7bb3da-9954-42d2-a1d8-958101c48088"
SKU, EAN = "SN00001-ROU-38", "2420000000011"
SKU2, EAN2 = "RO00056-GRI-36", "2420000004026"

PROBLEM_TYPES: tuple[ProblemType, ...] = (
    ProblemType(
        "validation-error",
        422,
        "Invalid request",
        "A field of the body, the query or the path is wrong; nothing was changed.",
        _problem(
            "validation-error",
            422,
            "Invalid request",
            "the query parameters are invalid",
            "/v1/availability",
            errors=[
                {
                    "loc": ["near"],
                    "msg": "Value error, expected 'lat,lng', got '48.85'",
                    "type": "value_error",
                }
            ],
        ),
        "`errors`: a list of {loc, msg, type}; `loc` is the path of the field in the body or the "
        "name of the query parameter.",
    ),
    ProblemType(
        "bad-request",
        400,
        "Bad request",
        "The body is not JSON, or a header is malformed (e.g. an Idempotency-Key).",
        _problem(
            "bad-request",
            400,
            "Bad request",
            "the body is not valid JSON: unexpected end of data: line 1 column 2 (char 1)",
            "/v1/availability",
        ),
    ),
    ProblemType(
        "unauthorized",
        401,
        "Unauthorized",
        "No `Authorization: Bearer <key>` header, or the key is unknown or revoked.",
        _problem(
            "unauthorized",
            401,
            "Unauthorized",
            "send an API key as 'Authorization: Bearer <key>'",
            "/v1/availability",
        ),
    ),
    ProblemType(
        "session-ended",
        401,
        "Session ended",
        "The staff console's session cookie names no live session: signed out, idle or too old, "
        "or its staff key was revoked. Sign in again.",
        _problem(
            "session-ended",
            401,
            "Session ended",
            "the staff session has ended (signed out, expired or key revoked)",
            "/v1/staff/session",
        ),
    ),
    ProblemType(
        "forbidden",
        403,
        "Forbidden",
        "The key's role may not call this operation, or a staff key acts on another store.",
        _problem(
            "forbidden",
            403,
            "Forbidden",
            "this key may not act on store 'S002'",
            "/v1/stores/S002/pickups",
        ),
    ),
    ProblemType(
        "cross-site-request",
        403,
        "Cross-site request refused",
        "A write with the staff console's session cookie that does not come from the console's "
        "origin, or lacks the session's `X-CSRF-Token`. Bearer-key calls are not concerned.",
        _problem(
            "cross-site-request",
            403,
            "Cross-site request refused",
            "a staff console write must carry X-CSRF-Token",
            f"/v1/pickups/{PICKUP_ID}/ready",
        ),
    ),
    ProblemType(
        "not-found",
        404,
        "Not found",
        "No such resource: an unknown item, store, pickup, hold, customer, or path.",
        _problem(
            "not-found",
            404,
            "Not found",
            "no item with sku 'NOPE-1'",
            "/v1/availability",
        ),
        "Sometimes `unknown` (the lines whose item was not found: line, kind, value).",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "Method not allowed",
        "The path exists but not with this method (the `Allow` header lists the methods).",
        _problem(
            "method-not-allowed",
            405,
            "Method not allowed",
            "DELETE is not allowed on /v1/availability",
            "/v1/availability",
        ),
    ),
    ProblemType(
        "conflict",
        409,
        "Conflict",
        "The request contradicts the current state: a pickup already collected, an "
        "Idempotency-Key reused with another body, an identifier that names several items.",
        _problem(
            "conflict",
            409,
            "Conflict",
            "cannot cancel a pickup that is collected (allowed: none, the pickup is closed)",
            f"/v1/pickups/{PICKUP_ID}/cancel",
            current_state="collected",
            allowed=[],
        ),
        "Depending on the case: `current_state` and `allowed` (next events), `idempotency_key`, "
        "`ambiguous` or `candidates`.",
    ),
    ProblemType(
        "insufficient-stock",
        409,
        "Insufficient stock",
        "A pickup asks for more than the store can promise now (nothing was reserved).",
        _problem(
            "insufficient-stock",
            409,
            "Insufficient stock",
            f"insufficient stock: {SKU} at store S001: requested 500, available 22",
            "/v1/pickups",
            shortfalls=[{"store_id": "S001", "sku": SKU, "requested": 500, "available": 22}],
        ),
        "`shortfalls`: the lines short, with store_id, sku, requested, available.",
    ),
    ProblemType(
        "price-missing",
        409,
        "No price for some items",
        "A basket has items without a synced price in the price list used.",
        _problem(
            "price-missing",
            409,
            "No price for some items",
            f"no price synced in price list 'WEB' for line 0: {SKU}",
            "/v1/baskets/price",
            price_list="WEB",
            missing=[{"line": 0, "sku": SKU}],
        ),
        "`price_list`, and `missing`: the lines (0-based index) without a price.",
    ),
    ProblemType(
        "payload-too-large",
        413,
        "Request too large",
        "The body is over the size limit, or a matrix asks for too many cells.",
        _problem(
            "payload-too-large",
            413,
            "Request too large",
            "200 lines x 100 stores = 20000 cells; the limit is 5000: split the request",
            "/v1/availability",
            cells=20000,
            limit=5000,
        ),
        "For the availability matrix: `cells` and `limit`.",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "A body sent with another Content-Type than application/json.",
        _problem(
            "unsupported-media-type",
            415,
            "Unsupported media type",
            "send the body as application/json",
            "/v1/pickups",
        ),
    ),
    ProblemType(
        "pickup-code-key-missing",
        409,
        "Pickup code cannot be checked",
        "The code was stored under a replay key this server no longer has (a rotation): set the "
        "former key in OMNISTOCK_REPLAY_KEY_PREVIOUS. No attempt was counted.",
        _problem(
            "pickup-code-key-missing",
            409,
            "Pickup code cannot be checked",
            KEY_MISSING_DETAIL,
            f"/v1/pickups/{PICKUP_ID}/collect",
        ),
    ),
    ProblemType(
        "pickup-code-locked",
        423,
        "Pickup code locked",
        "Too many wrong pickup codes: only a manager can cancel or hand over manually.",
        _problem(
            "pickup-code-locked",
            423,
            "Pickup code locked",
            "5 wrong codes; a manager must cancel or hand over manually",
            f"/v1/pickups/{PICKUP_ID}/collect",
            failures=5,
        ),
        "`failures`: wrong codes so far.",
    ),
    ProblemType(
        "service-unavailable",
        503,
        "Service unavailable",
        "A dependency (Cegid, PostgreSQL) did not answer in time; retry later (nothing changed).",
        _problem(
            "service-unavailable",
            503,
            "Service unavailable",
            "the ERP is unavailable: timed out after 15.0 s",
            "/v1/customers/C0000001/loyalty",
        ),
    ),
    ProblemType(
        "internal-error",
        500,
        "Internal error",
        "A bug: the `request_id` finds it in the logs.",
        _problem(
            "internal-error", 500, "Internal error", "an unexpected error occurred", "/v1/pickups"
        ),
    ),
)
PROBLEMS = {p.slug: p for p in PROBLEM_TYPES}
# the problem types an operation's answer of this status can be, unless the operation says
GENERIC = {
    400: ["bad-request"],
    401: ["unauthorized"],
    403: ["forbidden"],
    404: ["not-found"],
    409: ["conflict"],
    413: ["payload-too-large"],
    415: ["unsupported-media-type"],
    422: ["validation-error"],
    423: ["pickup-code-locked"],
    503: ["service-unavailable"],
}


@dataclass(frozen=True)
class OperationExamples:
    params: dict[str, Any] = field(default_factory=dict)  # path and query parameters
    request: dict[str, Example] = field(default_factory=dict)  # named body examples
    responses: dict[int, dict[str, Example]] = field(default_factory=dict)  # named answers
    problem_types: dict[int, list[str]] = field(default_factory=dict)  # beyond GENERIC
    problems: dict[int, dict[str, Example]] = field(default_factory=dict)  # own examples


# --------------------------------------------------------------------------- building blocks
T0 = "2026-12-07T09:15:02.418Z"


def _item(resolved_by: str = "sku", sku: str = SKU, ean: str = EAN) -> dict[str, Any]:
    return {
        "sku": sku,
        "ean": ean,
        "ps_product_id": 1201 if sku == SKU else 1388,
        "ps_attribute_id": 4471 if sku == SKU else 5102,
        "reference": "SN00001-38" if sku == SKU else "RO00056-36",
        "resolved_by": resolved_by,
    }


def _cell(store: str, name: str, km: float | None, available: int, **kw: Any) -> dict[str, Any]:
    status = "out_of_stock" if available == 0 else "low_stock" if available <= 2 else "in_stock"
    return {
        "store_id": store,
        "name": name,
        "distance_km": km,
        "available": available,
        "status": status,
        "offered_for_pickup": available > 0,
        "enough": kw.get("enough", available > 0),
        "as_of": "2026-12-07T09:14:58.104Z",
        "stale": False,
        "source": kw.get("source", "snapshot"),
        "oversold": False,
    }


def _hours(mon: list[list[str]] | None = None) -> dict[str, list[list[str]]]:
    week = {day: [["09:30", "20:00"]] for day in ("tue", "wed", "thu", "fri", "sat")}
    return {"mon": mon or [["14:00", "20:00"]], **week, "sun": []}


def _store(code: str, name: str, city: str, postcode: str, lat: float, lng: float) -> Any:
    return {
        "store_id": code,
        "name": name,
        "address": "82 avenue Jean Jaurès" if code == "S001" else "14 rue de la République",
        "city": city,
        "postcode": postcode,
        "country": "FR",
        "latitude": lat,
        "longitude": lng,
        "timezone": "Europe/Paris",
        "opening_hours": _hours(),
        "open_now": True,
        "services": ["click_and_collect", "reservation"],
        "pickup_capacity_per_day": 40,
        "hold_hours": 48,
        "warehouse_id": "",
        "active": True,
        "updated_at": "2026-12-07T08:55:52.548Z",
    }


PARIS = _store("S001", "Omnistock Paris", "Paris", "75001", 48.8566, 2.3522)
LYON = _store("S002", "Omnistock Lyon", "Lyon", "69001", 45.764, 4.8357)
REIMS = _store("S012", "Omnistock Reims", "Reims", "51100", 49.2583, 4.0317)
CUSTOMER = {
    "email": "gabriel.garcia1@example.com",
    "first_name": "Gabriel",
    "last_name": "Garcia",
    "phone": "+33667091759",
    "ps_customer_id": 1042,
}
ORDER_IN = {
    "kind": "order",
    "store_id": "S001",
    "customer": CUSTOMER,
    "lines": [
        {"sku": SKU, "quantity": 1, "unit_price": "131.99", "label": "Sneakers Lin Rouge 38"}
    ],
    "ps_order_id": 10482,
    "ps_order_reference": "XKBKNABJK",
    "payment_status": "paid",
    "currency": "EUR",
}
STOREFRONT_ACTOR = {"kind": "storefront", "id": "fa39580b-9959-4184-83fb-ede949e5b0b8"}
STAFF_ACTOR = {"kind": "staff", "id": "demo-staff"}
CREATED = {"from": None, "to": "confirmed", "event": "create", "actor": STOREFRONT_ACTOR, "at": T0}
READY = {
    "from": "confirmed",
    "to": "ready",
    "event": "mark_ready",
    "actor": STAFF_ACTOR,
    "at": "2026-12-07T10:02:11.507Z",
}
COLLECTED = {
    "from": "ready",
    "to": "collected",
    "event": "collect",
    "actor": STAFF_ACTOR,
    "at": "2026-12-07T17:41:09.033Z",
}


ERP_ACKED = {
    "document": {"type": "CustomerOrder", "stump": "WEB1", "number": 1020000001},
    "acked_at": "2026-12-07T09:15:02.994Z",
}


def _pickup(state: str, history: list[Any], **kw: Any) -> dict[str, Any]:
    nexts = {
        "confirmed": ["cancel", "expire", "mark_ready"],
        "ready": ["cancel", "collect", "no_show"],
    }
    return {
        "id": PICKUP_ID,
        "kind": "order",
        "state": state,
        "store_id": "S001",
        "customer": {**CUSTOMER, "erp_customer_id": None},
        "ps_order_id": 10482,
        "ps_order_reference": "XKBKNABJK",
        "payment_status": "paid",
        "currency": "EUR",
        "deadline": "2026-12-09T19:00:00Z",
        "ready_by": "2026-12-07T11:15:00Z",
        "created_at": T0,
        "updated_at": history[-1]["at"],
        "next_events": nexts.get(state, []),
        "code_locked": False,
        "code_failures": 0,
        "erp": kw.get("erp", {"document": None, "acked_at": None}),
        "lines": [
            {
                "line": 1,
                "sku": SKU,
                "ean": EAN,
                "quantity": 1,
                "unit_price": "131.99",
                "label": "Sneakers Lin Rouge 38",
            }
        ],
        "history": history,
        "pickup_code": kw.get("code"),
    }


PICKUP_CREATED = _pickup("confirmed", [CREATED], code="6ZAZDAFF")
PICKUP_READY = _pickup("ready", [CREATED, READY], erp=ERP_ACKED)
PICKUP_COLLECTED = _pickup("collected", [CREATED, READY, COLLECTED], erp=ERP_ACKED)
PICKUP_CANCELLED = _pickup(
    "cancelled",
    [
        CREATED,
        {
            "from": "confirmed",
            "to": "cancelled",
            "event": "cancel",
            "actor": STOREFRONT_ACTOR,
            "at": "2026-12-07T09:40:00.120Z",
        },
    ],
)


def _hold(state: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": HOLD_ID,
        "customer_id": "C0000001",
        "card_number": "LC0000000001",
        "program_id": "FID01",
        "points": 500,
        "value": {"amount": "25.00", "currency": "EUR"},
        "state": state,
        "reference": "XKBKNABJK",
        "store_id": "WEB",
        "created_at": T0,
        "expires_at": "2026-12-07T09:45:02.418Z",
        "committed_at": kw.get("committed_at"),
        "closed_at": kw.get("closed_at"),
        "erp_posted": kw.get("erp_posted", False),
        "erp_acked_at": kw.get("erp_acked_at"),
        "points_available": kw.get("points_available"),
    }


KEY: dict[str, Any] = {
    "id": "fa39580b-9959-4184-83fb-ede949e5b0b8",
    "prefix": "osk_Xazx0z",
    "role": "storefront",
    "stores": [],
    "label": "prestashop-prod",
    "created_at": "2026-12-07T08:55:55.697Z",
    "revoked_at": None,
}
STAFF_KEY = {
    **KEY,
    "id": "7e78e215-01e9-4640-abb3-0e304c14fca0",
    "prefix": "osk_9rjt4N",
    "role": "staff",
    "stores": ["S001"],
    "label": "paris-counter-1",
}
RULE: dict[str, Any] = {
    "id": "SNEAKERS-20",
    "name": "Sneakers -20%",
    "kind": "percentage",
    "targets": {"skus": [], "categories": ["sneakers"], "all_items": False, "label": "Sneakers"},
    "percent": "20",
    "amount": None,
    "buy_x": None,
    "get_y": None,
    "threshold": None,
    "currency": "EUR",
    "loyalty_only": False,
    "channel": "both",
    "store_ids": [],
    "starts_at": "2026-12-01T00:00:00Z",
    "ends_at": "2027-01-01T00:00:00Z",
    "priority": 10,
    "exclusive": False,
    "stackable": True,
}
OUTBOX_ROW = {
    "id": 2,
    "aggregate": "pickup",
    "aggregate_id": PICKUP_ID,
    "kind": "pickup.created",
    "status": "dead",
    "attempts": 8,
    "next_attempt_at": "2026-12-07T10:15:02.418Z",
    "last_error": "ErpUnavailable: timed out after 15.0 s",
    "created_at": T0,
    "done_at": None,
    "payload": {
        "kind": "order",
        "paid": True,
        "store_id": "S001",
        "pickup_id": PICKUP_ID,
        "lines": [{"sku": SKU, "ean": EAN, "quantity": 1, "unit_price": "131.99"}],
        "currency": "EUR",
        "external_reference": "XKBKNABJK",
    },
    "result": None,
}


def _not_found(detail: str, instance: str, **extra: Any) -> dict[int, dict[str, Example]]:
    problem = _problem("not-found", 404, "Not found", detail, instance, **extra)
    return {404: {"not-found": ("Not found", problem)}}


def _conflict(summary: str, detail: str, instance: str, **extra: Any) -> Example:
    return (summary, _problem("conflict", 409, "Conflict", detail, instance, **extra))


def _ok(summary: str, value: Any) -> dict[str, Example]:
    return {"ok": (summary, value)}


STAFF_SESSION = {
    "label": "demo-staff",
    "stores": [{"store_id": "S001", "name": "Omnistock Paris"}],
    "csrf_token": "SsgPFXaqIBxGDAYhVoG0MWjWqjnlC_GVN0R23tLllVk",
    "idle_timeout_s": 3600,
    "code_attempts": 5,
}
QR_SVG = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="164" height="164" class="segno">'
    '<title>Pickup QR code</title><path transform="scale(4)" class="qrline" stroke="#000" '
    'd="M4 4.5h7m1 0h1m5 0h1m5 0h2m1 0h1m2 0h7m-33 1h1m5 0h1m4 0h2m1 0h1…"/></svg>\n'
)
RECEIPT_KEY = "Receipt:S002:1010000003"
LYON_STORE = {
    "id": "S002",
    "name": "Omnistock Lyon",
    "address": "95 avenue Jean Jaurès",
    "city": "Lyon",
    "postcode": "69001",
}
WEB_STORE = {"id": "WEB", "name": "Omnistock e-shop", "address": "", "city": "", "postcode": ""}


def _receipt_summary(
    key: str, store: dict[str, str], when: str, incl: str, excl: str, qty: str
) -> dict[str, Any]:
    return {
        "key": key,
        "type": "Receipt",
        "store": store,
        "date": when,
        "currency": "EUR",
        "total_incl_tax": incl,
        "total_excl_tax": excl,
        "total_quantity": qty,
        "internal_reference": f"{store['id']}-{key.rsplit(':', 1)[-1]}",
        "origin": "Shop",
        "status": "Delivered",
    }


def _receipt_line(
    rank: int, label: str, qty: str, price: str, amount: str, sku: str, ean: str
) -> dict[str, Any]:
    return {
        "rank": rank,
        "label": label,
        "quantity": qty,
        "unit_price": price,
        "net_unit_price": price,
        "amount": amount,
        "sku": sku,
        "ean": ean,
        "erp_item_code": sku,
        "prestashop": None,
    }


RECEIPT = {
    **_receipt_summary(RECEIPT_KEY, LYON_STORE, "2025-10-26T11:15:00Z", "316.97", "264.14", "3"),
    "customer_id": "C0000001",
    "lines": [
        _receipt_line(
            1, "Sneakers Premium Vert 42", "1", "58.99", "58.99", "SN00008-VER-42", "2420000000844"
        ),
        _receipt_line(
            2, "Sneakers Slim Rose 42", "2", "128.99", "257.98", "SN00072-ROS-42", "2420000005702"
        ),
    ],
    "payments": [{"label": "Chèque cadeau", "code": "CHQ", "amount": "316.97", "currency": "EUR"}],
    "loyalty_card": {"card_id": "LC0000000001", "program_label": "Programme fidélité Omnistock"},
    "as_of": "2026-12-07T09:15:20.129Z",
    "source": "erp",
    "stale": False,
}
RECEIPT_PAGE = (
    '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">…'
    f"<title>Ticket de caisse {RECEIPT_KEY}</title>…</head>\n<body><main>\n"
    '<div class="store"><h1>Omnistock Lyon</h1>'
    "<h2>95 avenue Jean Jaurès, 69001, Lyon</h2></div>\n"
    f'<div class="meta"><span>Ticket de caisse n° {RECEIPT_KEY}</span>\n'
    "<span>26/10/2025 12:15</span></div>\n<table>…</table>\n"
    '<div class="totals">\n<div><span>Total HT</span><span>264,14 EUR</span></div>\n'
    '<div class="grand"><span>Total TTC</span><span>316,97 EUR</span></div>\n'
    "<div><span>Chèque cadeau</span><span>316,97 EUR</span></div></div>\n"
    "<div class='card'>Carte fidélité LC0000000001 — Programme fidélité Omnistock</div>\n"
    "<footer>Client C0000001 · 3 article(s)</footer>\n</main></body></html>\n"
)
CUSTOMER_ERP = {
    "first_name": "Gabriel",
    "last_name": "Garcia",
    "email": "gabriel.garcia1@example.com",
    "phone": "+33667091759",
    "usual_store_id": "S006",
}
_RECEIPT_PROBLEMS: dict[int, dict[str, Example]] = {
    **_not_found(
        "no document Receipt:S002:1010009999 of customer C0000001",
        "/v1/customers/C0000001/receipts/Receipt:S002:1010009999",
    ),
    403: {
        "other-store": (
            "A staff key bound to another store",
            _problem(
                "forbidden",
                403,
                "Forbidden",
                "this key may not see documents of store 'S002'",
                f"/v1/customers/C0000001/receipts/{RECEIPT_KEY}",
            ),
        )
    },
    422: {
        "bad-key": (
            "Not a document key",
            _problem(
                "validation-error",
                422,
                "Invalid request",
                "not a document key (Type:Stump:Number)",
                "/v1/customers/C0000001/receipts/nonsense",
                errors=[
                    {
                        "loc": ["path", "key"],
                        "msg": "not a document key (Type:Stump:Number)",
                        "type": "value_error",
                    }
                ],
            ),
        )
    },
}
_AMBIGUOUS = {  # the wording of ReceiptsReader._by_email (no two demo customers share an e-mail)
    409: {
        "ambiguous": _conflict(
            "An e-mail shared by several Cegid customers",
            "2 customers share e-mail 'famille.martin@example.com'",
            "/v1/customers/famille.martin@example.com",
            candidates=["C0000114", "C0000387"],
        )
    }
}


# --------------------------------------------------------------------------- the operations
OPERATIONS: dict[str, OperationExamples] = {
    # ---- ops
    "healthz": OperationExamples(responses={200: _ok("The process is alive", {"status": "ok"})}),
    "readyz": OperationExamples(
        responses={
            200: _ok(
                "Ready",
                {
                    "status": "ready",
                    "database": "ok",
                    "migrations": "current",
                    "shutting_down": False,
                },
            ),
            503: {
                "db-down": (
                    "PostgreSQL does not answer",
                    {
                        "status": "unavailable",
                        "database": "unreachable: ConnectionRefusedError",
                        "migrations": "unknown",
                        "shutting_down": False,
                    },
                )
            },
        }
    ),
    "metrics": OperationExamples(
        responses={
            200: _ok(
                "Prometheus text format",
                "# HELP omnistock_sync_lag_seconds Seconds since the last successful run\n"
                "# TYPE omnistock_sync_lag_seconds gauge\n"
                'omnistock_sync_lag_seconds{job="stock_hot"} 3.2\n',
            )
        }
    ),
    "openapi": OperationExamples(
        responses={200: _ok("This document", {"openapi": "3.1.0", "info": {"title": "omnistock"}})}
    ),
    "docs": OperationExamples(
        responses={200: _ok("The reference page", "<!doctype html>\n<title>omnistock API…")}
    ),
    "docs_getting_started": OperationExamples(
        responses={200: _ok("The guide", "<!doctype html>\n<title>Getting started…")}
    ),
    # ---- stores
    "list_stores": OperationExamples(
        params={"near": "48.8566,2.3522", "radius_km": 150, "limit": 2},
        responses={
            200: _ok(
                "The two stores nearest to central Paris",
                {
                    "items": [{**PARIS, "distance_km": 0.0}, {**REIMS, "distance_km": 130.272}],
                    "next_cursor": None,
                },
            )
        },
    ),
    "get_store": OperationExamples(
        params={"store_id": "S001"},
        responses={200: _ok("Paris", {**PARIS, "distance_km": None})},
        problems=_not_found("no store 'S099' in the directory", "/v1/stores/S099"),
    ),
    "put_store": OperationExamples(
        params={"store_id": "S013"},
        request={
            "store": (
                "A new store in Grenoble",
                {
                    "name": "Omnistock Grenoble",
                    "address": "5 place Grenette",
                    "city": "Grenoble",
                    "postcode": "38000",
                    "country": "FR",
                    "latitude": 45.1885,
                    "longitude": 5.7245,
                    "timezone": "Europe/Paris",
                    "opening_hours": _hours([["10:00", "19:00"]]),
                    "services": ["click_and_collect", "reservation"],
                    "pickup_capacity_per_day": 30,
                    "hold_hours": 48,
                },
            )
        },
        responses={
            201: _ok(
                "Created",
                {
                    **_store("S013", "Omnistock Grenoble", "Grenoble", "38000", 45.1885, 5.7245),
                    "address": "5 place Grenette",
                    "opening_hours": _hours([["10:00", "19:00"]]),
                    "pickup_capacity_per_day": 30,
                    "distance_km": None,
                },
            ),
            200: _ok("Replaced", {**PARIS, "distance_km": None}),
        },
    ),
    "import_stores": OperationExamples(
        request={
            "two": (
                "Two stores, all or nothing",
                [
                    {"store_id": "S001", "name": "Omnistock Paris", "city": "Paris"},
                    {"store_id": "S013", "name": "Omnistock Grenoble", "city": "Grenoble"},
                ],
            )
        },
        responses={
            200: _ok("One updated, one created", {"created": ["S013"], "updated": ["S001"]})
        },
    ),
    # ---- availability
    "availability": OperationExamples(
        params={"sku": SKU, "near": "48.8566,2.3522", "radius_km": 250, "limit": 3},
        responses={
            200: _ok(
                "SN00001-ROU-38 in the three stores nearest to Paris",
                {
                    "item": _item(),
                    "quantity": 1,
                    "stores": [
                        _cell("S001", "Omnistock Paris", 0.0, 23),
                        _cell("S012", "Omnistock Reims", 130.272, 4),
                        _cell("S010", "Omnistock Lille", 203.509, 0),
                    ],
                },
            )
        },
        problems=_not_found("no item with sku 'NOPE-1'", "/v1/availability"),
    ),
    "availability_matrix": OperationExamples(
        request={
            "near": (
                "A basket of two lines near the shopper, whole-basket stores listed",
                {
                    "lines": [{"sku": SKU, "quantity": 1}, {"ean": EAN2, "quantity": 2}],
                    "near": "48.8566,2.3522",
                    "radius_km": 150,
                    "limit": 2,
                    "whole_basket": True,
                },
            ),
            "near-object": (
                "The same, with near in its object form",
                {
                    "lines": [{"sku": SKU, "quantity": 1}, {"ean": EAN2, "quantity": 2}],
                    "near": {"lat": 48.8566, "lng": 2.3522, "radius_km": 150, "limit": 2},
                    "whole_basket": True,
                },
            ),
            "stores": (
                "The same lines in named stores",
                {
                    "lines": [{"sku": SKU, "quantity": 1}, {"ean": EAN2, "quantity": 2}],
                    "stores": ["S001", "S012"],
                },
            ),
        },
        responses={
            200: _ok(
                "Paris has both lines; Reims lacks the second",
                {
                    "stores": [
                        {"store_id": "S001", "name": "Omnistock Paris", "distance_km": 0.0},
                        {"store_id": "S012", "name": "Omnistock Reims", "distance_km": 130.272},
                    ],
                    "lines": [
                        {
                            "line": 0,
                            "item": _item(),
                            "quantity": 1,
                            "stores": [
                                _cell("S001", "Omnistock Paris", 0.0, 23),
                                _cell("S012", "Omnistock Reims", 130.272, 4),
                            ],
                        },
                        {
                            "line": 1,
                            "item": _item("ean", SKU2, EAN2),
                            "quantity": 2,
                            "stores": [
                                _cell("S001", "Omnistock Paris", 0.0, 6),
                                _cell("S012", "Omnistock Reims", 130.272, 1, enough=False),
                            ],
                        },
                    ],
                    "whole_basket": [
                        {"store_id": "S001", "name": "Omnistock Paris", "distance_km": 0.0}
                    ],
                },
            )
        },
        problems=_not_found(
            "no item for line 1: sku 'NOPE-1'",
            "/v1/availability",
            unknown=[{"line": 1, "kind": "sku", "value": "'NOPE-1'"}],
        ),
    ),
    "resolve_item": OperationExamples(
        params={"ean": EAN},
        responses={200: _ok("Found by EAN", {k: v for k, v in _item("ean").items()})},
        problems={
            **_not_found("no item with sku 'NOPE-1'", "/v1/items/resolve"),
            409: {
                "ambiguous": _conflict(
                    "A reference shared by several items",
                    "several items have reference 'SN00001'",
                    "/v1/items/resolve",
                    candidates=[{"sku": SKU, "ean": EAN}, {"sku": "SN00001-ROU-39", "ean": None}],
                )
            },
        },
    ),
    "import_mapping": OperationExamples(
        request={
            "rows": (
                "PrestaShop keys of two items (from ps_product_attribute)",
                [
                    {"sku": SKU, "id_product": 1201, "id_product_attribute": 4471},
                    {"ean": EAN2, "id_product": 1388, "id_product_attribute": 5102},
                ],
            )
        },
        responses={
            200: _ok(
                "Report",
                {
                    "updated": [SKU2, SKU],
                    "unchanged": 0,
                    "duplicate_references": [],
                    "blank_references": [SKU2, SKU],
                },
            )
        },
    ),
    # ---- pickups
    "create_pickup": OperationExamples(
        params={"Idempotency-Key": "order-10482"},
        request={
            "order": ("A paid click-and-collect order", ORDER_IN),
            "reservation": (
                "A reservation (pay in store)",
                {
                    "kind": "reservation",
                    "store_id": "S001",
                    "customer": {"email": "theo.bernard2@example.com"},
                    "lines": [{"sku": SKU, "quantity": 1}],
                },
            ),
        },
        responses={
            201: _ok("Created: the pickup code is only in this answer", PICKUP_CREATED),
            200: _ok(
                "The same order again (same ps_order_id or Idempotency-Key): the first pickup",
                {**PICKUP_CREATED, "pickup_code": None},
            ),
        },
        problem_types={409: ["insufficient-stock"]},
        problems={
            409: {
                "insufficient-stock": (
                    "Not enough stock",
                    PROBLEMS["insufficient-stock"].example,
                ),
                "idempotency": _conflict(
                    "Idempotency-Key reused with another body",
                    "this Idempotency-Key was already used with a different request",
                    "/v1/pickups",
                    idempotency_key="order-10482",
                ),
            }
        },
    ),
    "get_pickup": OperationExamples(
        params={"pickup_id": PICKUP_ID},
        responses={200: _ok("Ready for collection", PICKUP_READY)},
        problems=_not_found(f"no pickup with id {PICKUP_ID}", f"/v1/pickups/{PICKUP_ID}"),
    ),
    "cancel_pickup": OperationExamples(
        params={"pickup_id": PICKUP_ID},
        request={"reason": ("Why", {"reason": "customer changed their mind"})},
        responses={200: _ok("Cancelled: the stock is free again", PICKUP_CANCELLED)},
        problems={409: {"collected": ("Already collected", PROBLEMS["conflict"].example)}},
    ),
    "pickup_qr": OperationExamples(
        params={"pickup_id": PICKUP_ID, "code": "6ZAZDAFF", "scale": 4},
        responses={200: _ok("The QR code to show at the counter (path data trimmed)", QR_SVG)},
        problems={
            **_not_found(f"no pickup with id {PICKUP_ID}", f"/v1/pickups/{PICKUP_ID}/qr.svg"),
            422: {
                "wrong-code": (
                    "Not this pickup's code (no QR code is drawn, no attempt is counted)",
                    _problem(
                        "validation-error",
                        422,
                        "Invalid request",
                        "the code is not this pickup's code",
                        f"/v1/pickups/{PICKUP_ID}/qr.svg",
                        errors=[
                            {
                                "loc": ["code"],
                                "msg": "not this pickup's code",
                                "type": "wrong_code",
                            }
                        ],
                    ),
                )
            },
            409: {
                "key-missing": (
                    "Stored under a replay key this server no longer has",
                    _problem(
                        "pickup-code-key-missing",
                        409,
                        "Pickup code cannot be checked",
                        KEY_MISSING_DETAIL,
                        f"/v1/pickups/{PICKUP_ID}/qr.svg",
                    ),
                )
            },
        },
        problem_types={409: ["pickup-code-key-missing"]},
    ),
    # ---- staff
    "staff_sign_in": OperationExamples(
        request={
            "key": (
                "The store device's staff key",
                {"key": "osk_mjRfjVugw-uaPIa2EJc5kHI1b8LkS07wjF8qSk2QSXo"},
            )
        },
        responses={
            201: _ok("Signed in: the cookie is set, echo csrf_token on writes", STAFF_SESSION)
        },
        problem_types={403: ["cross-site-request"]},
        problems={
            401: {
                "unknown-key": (
                    "An unknown or revoked key",
                    _problem(
                        "unauthorized",
                        401,
                        "Unauthorized",
                        "this key is unknown or revoked",
                        "/v1/staff/session",
                    ),
                )
            },
            403: {
                "not-staff": (
                    "Not a staff key",
                    _problem(
                        "forbidden",
                        403,
                        "Forbidden",
                        "the console signs in with a staff key, not a storefront key",
                        "/v1/staff/session",
                    ),
                ),
                "cross-site": (
                    "Posted from another origin",
                    _problem(
                        "cross-site-request",
                        403,
                        "Cross-site request refused",
                        "requests from https://evil.example may not use the staff session",
                        "/v1/staff/session",
                    ),
                ),
            },
        },
    ),
    "staff_session": OperationExamples(
        responses={200: _ok("Signed in", STAFF_SESSION)},
        problem_types={401: ["session-ended"]},
        problems={401: {"ended": ("Signed out or expired", PROBLEMS["session-ended"].example)}},
    ),
    "staff_sign_out": OperationExamples(
        problem_types={403: ["cross-site-request"]},
        problems={
            403: {
                "no-token": (
                    "Without X-CSRF-Token",
                    _problem(
                        "cross-site-request",
                        403,
                        "Cross-site request refused",
                        "a staff console write must carry X-CSRF-Token",
                        "/v1/staff/session",
                    ),
                )
            }
        },
    ),
    "store_pickups": OperationExamples(
        params={"store_id": "S001", "state": ["ready"], "limit": 50},
        responses={
            200: _ok(
                "Paris, ready pickups (a list leaves out lines and history); counts ignore state",
                {
                    "items": [{**PICKUP_READY, "lines": [], "history": []}],
                    "next_cursor": None,
                    "counts": {
                        "confirmed": 2,
                        "ready": 1,
                        "collected": 0,
                        "cancelled": 0,
                        "expired": 0,
                        "no_show": 0,
                    },
                },
            )
        },
    ),
    "ready_pickup": OperationExamples(
        params={"pickup_id": PICKUP_ID},
        responses={200: _ok("Prepared: the customer can come", PICKUP_READY)},
        problems={
            409: {
                "state": _conflict(
                    "Not in a state that allows it",
                    "cannot mark_ready a pickup that is cancelled",
                    f"/v1/pickups/{PICKUP_ID}/ready",
                    current_state="cancelled",
                    allowed=[],
                )
            }
        },
    ),
    "collect_pickup": OperationExamples(
        params={"pickup_id": PICKUP_ID},
        request={"code": ("The code the customer shows", {"code": "6ZAZDAFF"})},
        responses={200: _ok("Handed over", PICKUP_COLLECTED)},
        problems={
            422: {
                "wrong-code": (
                    "A wrong code",
                    _problem(
                        "validation-error",
                        422,
                        "Invalid request",
                        "wrong pickup code",
                        f"/v1/pickups/{PICKUP_ID}/collect",
                        errors=[
                            {
                                "loc": ["code"],
                                "msg": "wrong code; 4 attempt(s) left",
                                "type": "wrong_code",
                            }
                        ],
                    ),
                )
            },
            409: {
                "not-ready": _conflict(
                    "Not prepared yet",
                    "cannot collect a pickup that is confirmed",
                    f"/v1/pickups/{PICKUP_ID}/collect",
                    current_state="confirmed",
                    allowed=["cancel", "expire", "mark_ready"],
                ),
                "key-missing": (
                    "Stored under a replay key this server no longer has",
                    PROBLEMS["pickup-code-key-missing"].example,
                ),
            },
        },
        problem_types={409: ["conflict", "pickup-code-key-missing"]},
    ),
    # ---- customers and loyalty
    "get_customer": OperationExamples(
        params={"customer_ref": "C0000001"},
        responses={
            200: {
                "by-id": (
                    "A Cegid customer by id",
                    {
                        "customer_id": "C0000001",
                        "resolved_by": "customer_id",
                        "links": [],
                        "erp": CUSTOMER_ERP,
                        "source": "erp",
                        "stale": False,
                    },
                ),
                "by-prestashop-id": (
                    "ps:1001, a shopper the relay created in Cegid from a pickup",
                    {
                        "customer_id": "C0000501",
                        "resolved_by": "ps_customer_id",
                        "links": [
                            {
                                "email": "ana@example.com",
                                "ps_customer_id": 1001,
                                "linked_by": "created",
                                "candidates": [],
                                "created_at": "2026-12-07T09:15:23.268Z",
                                "updated_at": "2026-12-07T09:15:23.268Z",
                            }
                        ],
                        "erp": {
                            "first_name": "Ana",
                            "last_name": "Lopez",
                            "email": "ana@example.com",
                            "phone": "",
                            "usual_store_id": "S001",
                        },
                        "source": "erp",
                        "stale": False,
                    },
                ),
            }
        },
        problems={
            **_not_found(
                "no customer with e-mail 'nobody@example.com'",
                "/v1/customers/nobody@example.com",
            ),
            **_AMBIGUOUS,
            503: {
                "erp-down": (
                    "Cegid is down and the customer is not known here",
                    _problem(
                        "service-unavailable",
                        503,
                        "Service unavailable",
                        "the ERP is unavailable: HTTP 503: service unavailable",
                        "/v1/customers/C0000002",
                    ),
                )
            },
        },
    ),
    "list_customer_receipts": OperationExamples(
        params={"customer_ref": "C0000001", "limit": 2},
        responses={
            200: _ok(
                "The newest two documents, then next_cursor",
                {
                    "customer_id": "C0000001",
                    "items": [
                        _receipt_summary(
                            "Receipt:WEB:1010000001",
                            WEB_STORE,
                            "2026-04-30T16:14:00Z",
                            "330.95",
                            "275.79",
                            "5",
                        ),
                        _receipt_summary(
                            "Receipt:S006:1010000002",
                            {
                                "id": "S006",
                                "name": "Omnistock Nantes",
                                "address": "98 rue Nationale",
                                "city": "Nantes",
                                "postcode": "44000",
                            },
                            "2026-01-19T15:01:00Z",
                            "508.93",
                            "424.11",
                            "7",
                        ),
                    ],
                    "next_cursor": "WyIyMDI2LTAxLTE5VDE1OjAxOjAwKzAwOjAwIiwiUmVjZWlwdDpTMDA2"
                    "OjEwMTAwMDAwMDIiXQ",
                    "as_of": "2026-12-07T09:15:19.993Z",
                    "source": "erp",
                    "stale": False,
                },
            )
        },
        problems={
            **_not_found("no customer 'C9999999'", "/v1/customers/C9999999/receipts"),
            503: {
                "erp-down": (
                    "Cegid is down and nothing is stored for this customer",
                    _problem(
                        "service-unavailable",
                        503,
                        "Service unavailable",
                        "the ERP is unavailable: CustomerWcfService.GetCustomerDetail: circuit "
                        "open after 5 failures",
                        "/v1/customers/C0000003/receipts",
                    ),
                )
            },
        },
    ),
    "get_customer_receipt": OperationExamples(
        params={"customer_ref": "C0000001", "key": RECEIPT_KEY},
        responses={200: _ok("An in-store receipt in Lyon, with its lines", RECEIPT)},
        problems=_RECEIPT_PROBLEMS,
    ),
    "customer_receipt_page": OperationExamples(
        params={"customer_ref": "C0000001", "key": RECEIPT_KEY},
        responses={200: _ok("The printable page (style and table trimmed)", RECEIPT_PAGE)},
        problems=_RECEIPT_PROBLEMS,
    ),
    "customer_loyalty": OperationExamples(
        params={"customer_ref": "gabriel.garcia1@example.com"},
        responses={
            200: _ok(
                "Gabriel's card and balance, one hold open",
                {
                    "customer_id": "C0000001",
                    "resolved_by": "email",
                    "cards": [
                        {
                            "number": "LC0000000001",
                            "program_id": "FID01",
                            "program_label": "Programme fidélité Omnistock",
                            "active": True,
                            "expires_on": "2027-02-25",
                            "erp_points": 2223,
                            "held_points": 500,
                            "points_available": 1723,
                        }
                    ],
                    "erp_points": 2223,
                    "held_points": 500,
                    "pending_accruals": 0,
                    "points_available": 1723,
                    "programs": [
                        {
                            "program_id": "FID01",
                            "label": "Programme fidélité Omnistock",
                            "points_available": 1723,
                            "value": {"amount": "86.15", "currency": "EUR"},
                            "rate": {"amount": "5.00", "currency": "EUR", "points": 100},
                        }
                    ],
                    "holds": [_hold("held")],
                    "as_of": "2026-12-07T09:15:01.843Z",
                    "stale": False,
                    "source": "erp",
                },
            )
        },
        problems=_not_found(
            "no customer with e-mail 'nobody@example.com'",
            "/v1/customers/nobody@example.com/loyalty",
        ),
    ),
    "create_loyalty_hold": OperationExamples(
        params={"customer_ref": "C0000001", "Idempotency-Key": "cart-7731-points"},
        request={
            "points": ("500 points for order XKBKNABJK", {"points": 500, "reference": "XKBKNABJK"})
        },
        responses={201: _ok("Held for 30 minutes", _hold("held", points_available=1723))},
        problems={
            409: {
                "balance": _conflict(
                    "Not enough points",
                    "5000 points requested, 2223 available on card LC0000000001",
                    "/v1/customers/C0000001/loyalty/holds",
                    available=2223,
                    requested=5000,
                    card_number="LC0000000001",
                )
            }
        },
    ),
    "get_loyalty_hold": OperationExamples(
        params={"hold_id": HOLD_ID},
        responses={200: _ok("A held redemption", _hold("held"))},
        problems=_not_found(f"no loyalty hold {HOLD_ID}", f"/v1/loyalty/holds/{HOLD_ID}"),
    ),
    "commit_loyalty_hold": OperationExamples(
        params={"hold_id": HOLD_ID},
        request={"reference": ("The order reference", {"reference": "XKBKNABJK"})},
        responses={
            200: _ok(
                "Committed; posted to Cegid by the outbox",
                _hold("committed", committed_at="2026-12-07T09:16:40.997Z"),
            )
        },
        problems={
            409: {
                "expired": _conflict(
                    "Too late",
                    "cannot commit a loyalty hold that is expired",
                    f"/v1/loyalty/holds/{HOLD_ID}/commit",
                    current_state="expired",
                    allowed=[],
                )
            }
        },
    ),
    "release_loyalty_hold": OperationExamples(
        params={"hold_id": HOLD_ID},
        responses={
            200: _ok(
                "Released: the points are available again",
                _hold("released", closed_at="2026-12-07T09:20:11.201Z"),
            )
        },
    ),
    "resolve_loyalty_hold": OperationExamples(
        params={"hold_id": HOLD_ID},
        request={"posted": ("Cegid shows the movement", {"posted": True})},
        responses={
            200: _ok(
                "Settled as posted",
                _hold(
                    "committed",
                    committed_at="2026-12-07T09:16:40.997Z",
                    erp_posted=True,
                    erp_acked_at="2026-12-07T11:02:00.000Z",
                ),
            )
        },
    ),
    # ---- prices and promotions
    "get_price": OperationExamples(
        params={"sku": SKU2, "store": "S001"},
        responses={
            200: _ok(
                "A store markdown",
                {
                    "item": _item("sku", SKU2, EAN2),
                    "store_id": "S001",
                    "currency": "EUR",
                    "base_price": "40.99",
                    "current_price": "32.79",
                    "markdown": {"amount": "8.20", "percent": "20.005", "reason": "DESTOCK"},
                    "as_of": "2026-12-07T08:55:53.120Z",
                },
            )
        },
        problems=_not_found(
            f"no price synced for SKU '{SKU}' in store 'WEB'",
            "/v1/prices",
            sku=SKU,
            store_id="WEB",
        ),
    ),
    "price_basket": OperationExamples(
        request={
            "store": (
                "A loyalty member's basket in Paris",
                {
                    "channel": "store",
                    "store_id": "S001",
                    "customer": {"loyalty_member": True},
                    "lines": [{"sku": SKU, "quantity": 1}, {"sku": SKU2, "quantity": 2}],
                },
            )
        },
        responses={
            200: _ok(
                "A markdown on one line, a percentage rule on the other",
                {
                    "channel": "store",
                    "store_id": "S001",
                    "price_list": "S001",
                    "currency": "EUR",
                    "loyalty_member": True,
                    "priced_at": T0,
                    "lines": [
                        {
                            "line": 0,
                            "item": _item(),
                            "quantity": 1,
                            "unit_base_price": "131.99",
                            "unit_current_price": "131.99",
                            "markdown_reason": "",
                            "base": "131.99",
                            "current": "131.99",
                            "markdown": "0.00",
                            "discounts": [
                                {
                                    "rule_id": "SNEAKERS-20",
                                    "amount": "26.40",
                                    "explanation": "Sneakers -20%: 20% off Sneakers",
                                }
                            ],
                            "net": "105.59",
                        },
                        {
                            "line": 1,
                            "item": _item("sku", SKU2, EAN2),
                            "quantity": 2,
                            "unit_base_price": "40.99",
                            "unit_current_price": "32.79",
                            "markdown_reason": "DESTOCK",
                            "base": "81.98",
                            "current": "65.58",
                            "markdown": "16.40",
                            "discounts": [],
                            "net": "65.58",
                        },
                    ],
                    "totals": {
                        "subtotal_base": "213.97",
                        "markdowns": "16.40",
                        "discounts": "26.40",
                        "total": "171.17",
                    },
                    "applied": [
                        {
                            "rule_id": "SNEAKERS-20",
                            "name": "Sneakers -20%",
                            "amount": "26.40",
                            "explanation": "Sneakers -20%: 20% off Sneakers",
                        }
                    ],
                    "not_applied": [
                        {
                            "rule_id": "WEB-10-OFF-150",
                            "reason": "wrong_channel",
                            "detail": "web only",
                        }
                    ],
                    "rules_version": 3,
                },
            )
        },
        problem_types={409: ["price-missing"]},
        problems={409: {"price-missing": ("No price", PROBLEMS["price-missing"].example)}},
    ),
    "active_promotions": OperationExamples(
        params={"channel": "store", "store": "S001"},
        responses={
            200: _ok(
                "One rule applies in Paris today",
                {
                    "channel": "store",
                    "store_id": "S001",
                    "items": [{**RULE, "description": "20% off selected items"}],
                },
            )
        },
    ),
    "list_promotion_rules": OperationExamples(
        params={"limit": 100},
        responses={
            200: _ok(
                "Every rule",
                {
                    "items": [{**RULE, "created_at": T0, "updated_at": T0}],
                    "next_cursor": None,
                },
            )
        },
    ),
    "put_promotion_rule": OperationExamples(
        params={"rule_id": "SNEAKERS-20"},
        request={
            "percentage": (
                "20% off the sneakers in December",
                {
                    "name": "Sneakers -20%",
                    "kind": "percentage",
                    "percent": "20",
                    "targets": {"categories": ["sneakers"], "label": "Sneakers"},
                    "channel": "both",
                    "starts_at": "2026-12-01T00:00:00Z",
                    "ends_at": "2027-01-01T00:00:00Z",
                    "priority": 10,
                },
            ),
            "threshold": (
                "10 EUR off web baskets from 150 EUR",
                {
                    "name": "10 EUR off from 150 EUR",
                    "kind": "threshold",
                    "amount": "10",
                    "threshold": "150",
                    "targets": {"all_items": True, "label": "the basket"},
                    "channel": "web",
                    "priority": 5,
                },
            ),
        },
        responses={
            201: _ok("Created", {**RULE, "created_at": T0, "updated_at": T0}),
            200: _ok("Replaced", {**RULE, "created_at": T0, "updated_at": T0}),
        },
    ),
    "delete_promotion_rule": OperationExamples(
        params={"rule_id": "SNEAKERS-20"},
        problems=_not_found("no promotion rule 'SNEAKERS-21'", "/v1/admin/promotions/SNEAKERS-21"),
    ),
    "put_item_categories": OperationExamples(
        params={"sku": SKU},
        request={
            "categories": (
                "Sneakers, and the winter sale",
                {"categories": ["sneakers", "winter-sale"]},
            )
        },
        responses={200: _ok("Replaced", {"sku": SKU, "categories": ["sneakers", "winter-sale"]})},
    ),
    # ---- admin
    "create_key": OperationExamples(
        request={
            "staff": (
                "A key for a Paris counter",
                {"role": "staff", "stores": ["S001"], "label": "paris-counter-1"},
            ),
            "storefront": ("The shop's key", {"role": "storefront", "label": "prestashop-prod"}),
        },
        responses={
            201: _ok(
                "Created: the key is shown once",
                {**STAFF_KEY, "key": "osk_9rjt4ND5zGaQdboGsSnsj3sVzbL6Z4x2hEmthLPSUPc"},
            )
        },
    ),
    "list_keys": OperationExamples(
        params={"include_revoked": False},
        responses={200: _ok("Two keys", {"items": [KEY, STAFF_KEY]})},
    ),
    "revoke_key": OperationExamples(
        params={"key_id": STAFF_KEY["id"]},
        responses={200: _ok("Revoked", {**STAFF_KEY, "revoked_at": "2026-12-07T12:00:00Z"})},
    ),
    "list_outbox": OperationExamples(
        params={"status": "dead", "limit": 50},
        responses={200: _ok("One dead row", {"items": [OUTBOX_ROW], "next_cursor": None})},
    ),
    "get_outbox_row": OperationExamples(
        params={"outbox_id": 2}, responses={200: _ok("A dead row", OUTBOX_ROW)}
    ),
    "replay_outbox_row": OperationExamples(
        params={"outbox_id": 2},
        responses={
            200: _ok(
                "Pending again, due now",
                {**OUTBOX_ROW, "status": "pending", "attempts": 0, "next_attempt_at": T0},
            )
        },
        problems={
            409: {
                "not-dead": _conflict(
                    "Only dead rows are replayed",
                    "outbox row 2 is done; only dead rows are replayed",
                    "/v1/admin/outbox/2/replay",
                    outbox_id=2,
                    current_status="done",
                )
            }
        },
    ),
    "replay_dead_outbox": OperationExamples(
        responses={200: _ok("Three rows pending again", {"replayed": [2, 7, 9]})}
    ),
}
