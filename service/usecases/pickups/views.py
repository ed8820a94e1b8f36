"""How a pickup reads back: one ``PickupView`` (JSON-ready) for the API, the idempotency store
and tests, built in one place (``pickup_view``) whether the pickup was just written, read back or
listed."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

import asyncpg

from service.domain.pickups import allowed_events
from service.errors import NotFound
from stores import pickups as repo
from stores.pickup_records import PickupRecord

CUSTOMER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "erp_customer_id",
    "ps_customer_id",
)
CENT = Decimal("0.01")


class ErpView(TypedDict):
    document: Any
    acked_at: str | None


class LineView(TypedDict):
    line: int
    sku: str
    ean: str | None
    quantity: int
    unit_price: str | None
    label: str


class ActorView(TypedDict):
    kind: str
    id: str
    name: str


# functional form: "from" is a keyword
HistoryView = TypedDict(
    "HistoryView",
    {"from": str | None, "to": str, "event": str, "actor": ActorView, "at": str | None},
)


class PickupView(TypedDict):
    """A pickup as the API answers it; a listed pickup has no lines and no history."""

    id: str
    kind: str
    state: str
    store_id: str
    customer: dict[str, Any]
    ps_order_id: int | None
    ps_order_reference: str | None
    payment_status: str
    currency: str
    deadline: str | None
    ready_by: str | None
    created_at: str | None
    updated_at: str | None
    next_events: list[str]
    code_locked: bool
    code_failures: int
    erp: ErpView
    lines: list[LineView]
    history: list[HistoryView]
    pickup_code: NotRequired[str | None]  # only in the creation answer


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the API's pydantic answers write datetimes."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _price(value: Decimal | None) -> str | None:
    """A unit price with its cents, as stored (numeric(12, 2))."""
    return None if value is None else str(value.quantize(CENT))


def pickup_view(p: PickupRecord) -> PickupView:
    """The one place a pickup's answer is built: created (from the values written, no read
    back: ``NewPickupRow.read_back``), read (``read_view``) or listed (without lines and
    history)."""
    return {
        "id": str(p.id),
        "kind": p.kind,
        "state": p.state,
        "store_id": p.store_id,
        "customer": {k: p.customer.get(k) for k in CUSTOMER_FIELDS},
        "ps_order_id": p.ps_order_id,
        "ps_order_reference": p.ps_order_reference,
        "payment_status": p.payment_status,
        "currency": p.currency,
        "deadline": _iso(p.deadline),
        "ready_by": _iso(p.ready_by),
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
        "next_events": sorted(e.value for e in allowed_events(p.state)),
        "code_locked": p.code_locked,
        "code_failures": p.code_failures,
        "erp": {"document": p.erp_document, "acked_at": _iso(p.erp_acked_at)},
        "lines": [
            {
                "line": x.line_no,
                "sku": x.sku,
                "ean": x.ean,
                "quantity": x.quantity,
                "unit_price": _price(x.unit_price),
                "label": x.label,
            }
            for x in p.lines
        ],
        "history": [
            {
                "from": h.from_state,
                "to": h.to_state,
                "event": h.event,
                "actor": {"kind": h.actor_kind, "id": h.actor_id, "name": h.actor_name},
                "at": _iso(h.at),
            }
            for h in p.history
        ],
    }


async def read_view(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> PickupView:
    """The view of a stored pickup, with its lines and history."""
    record = await repo.read(conn, pickup_id)
    if record is None:
        raise NotFound(f"no pickup with id {pickup_id}")
    return pickup_view(record)
