"""How a pickup reads back: one JSON-able dict for the API, the idempotency store and tests."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import asyncpg

from service.domain.pickups import Actor, allowed_events
from service.errors import NotFound
from stores import pickups as repo

CUSTOMER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "erp_customer_id",
    "ps_customer_id",
)
CENT = Decimal("0.01")


def _iso(value: Any) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the API's pydantic answers write datetimes."""
    if value is None:
        return None
    text: str = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def summary(row: asyncpg.Record) -> dict[str, Any]:
    customer = row["customer"]
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "state": row["state"],
        "store_id": row["store_id"],
        "customer": {k: customer.get(k) for k in CUSTOMER_FIELDS},
        "ps_order_id": row["ps_order_id"],
        "ps_order_reference": row["ps_order_reference"],
        "payment_status": row["payment_status"],
        "currency": row["currency"],
        "deadline": _iso(row["deadline"]),
        "ready_by": _iso(row["ready_by"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "next_events": sorted(e.value for e in allowed_events(row["state"])),
        "code_locked": row["code_locked_at"] is not None,
        "code_failures": row["code_failures"],
        "erp": {"document": row["erp_document"], "acked_at": _iso(row["erp_acked_at"])},
    }


async def pickup_view(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.get(conn, pickup_id)
    if row is None:
        raise NotFound(f"no pickup with id {pickup_id}")
    view = summary(row)
    view["lines"] = [
        {
            "line": r["line_no"],
            "sku": r["sku"],
            "ean": r["ean"],
            "quantity": r["quantity"],
            "unit_price": None if r["unit_price"] is None else str(r["unit_price"]),
            "label": r["label"],
        }
        for r in await repo.lines(conn, pickup_id)
    ]
    view["history"] = [
        {
            "from": r["from_state"],
            "to": r["to_state"],
            "event": r["event"],
            "actor": {"kind": r["actor_kind"], "id": r["actor_id"], "name": r["actor_name"]},
            "at": _iso(r["at"]),
        }
        for r in await repo.history(conn, pickup_id)
    ]
    return view


def _price(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def created_view(row: dict[str, Any], lines: list[dict[str, Any]], actor: Actor) -> dict[str, Any]:
    """The view of a pickup just inserted, from the values written (no read back): the same
    shape and values as ``pickup_view`` gives afterwards."""
    customer = row["customer"]
    at = _iso(row["created_at"])
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "state": "confirmed",
        "store_id": row["store_id"],
        "customer": {k: customer.get(k) for k in CUSTOMER_FIELDS},
        "ps_order_id": row["ps_order_id"],
        "ps_order_reference": row["ps_order_reference"],
        "payment_status": row["payment_status"],
        "currency": row["currency"],
        "deadline": _iso(row["deadline"]),
        "ready_by": _iso(row["ready_by"]),
        "created_at": at,
        "updated_at": at,
        "next_events": sorted(e.value for e in allowed_events("confirmed")),
        "code_locked": False,
        "code_failures": 0,
        "erp": {"document": None, "acked_at": None},
        "lines": [
            {
                "line": n,
                "sku": x["sku"],
                "ean": x["ean"],
                "quantity": x["quantity"],
                "unit_price": _price(x["unit_price"]),
                "label": x["label"],
            }
            for n, x in enumerate(lines, start=1)
        ],
        "history": [
            {
                "from": None,
                "to": "confirmed",
                "event": "create",
                "actor": {"kind": actor.kind.value, "id": actor.id, "name": actor.name},
                "at": at,
            }
        ],
    }
