"""E-reservations and click-and-collect orders: create with a stock hold, never oversell.

Creating a pickup is one transaction: claim the Idempotency-Key, lock the store's stock rows in
(store, sku) order, compute ATP for every line from the snapshot, open holds and buffers, then
insert the pickup, its lines, holds, history and the outbox row that posts it to the ERP. All
lines or none: a refusal lists every short line.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg

from service.domain.atp import OpenHold, StockRequest, ensure_available, pending_hold_qty
from service.domain.atp import stock_position as position_of
from service.domain.pickup_codes import hash_pickup_code, new_code_salt, new_pickup_code
from service.domain.pickups import Actor, has_capacity, pickup_deadline, ready_by
from service.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from service.usecases import idempotency
from service.usecases.identifiers import ItemLookup, resolve_items
from service.usecases.pickup_views import created_view, pickup_view
from service.usecases.store_model import hours_from_json
from service.usecases.sync import utcnow
from stores import availability_repo
from stores import pickups as repo

Kind = Literal["reservation", "order"]
SERVICE_OF: dict[str, str] = {"reservation": "reservation", "order": "click_and_collect"}


@dataclass(frozen=True)
class PickupSettings:
    max_staleness: timedelta = timedelta(minutes=10)  # older snapshots cannot back a hold
    prep_minutes: int = 60
    code_iterations: int = 1000  # PBKDF2 rounds of the stored pickup code hash
    max_code_attempts: int = 5


@dataclass(frozen=True)
class NewLine:
    lookup: ItemLookup
    quantity: int
    unit_price: Decimal | None = None
    label: str = ""


@dataclass(frozen=True)
class NewPickup:
    kind: Kind
    store_id: str
    customer: dict[str, Any]
    lines: list[NewLine]
    ps_order_id: int | None = None
    ps_order_reference: str | None = None
    payment_status: Literal["pending", "paid"] = "pending"
    currency: str = "EUR"


@dataclass(frozen=True)
class Idempotency:
    principal: str
    key: str
    body: Any = field(compare=False)


async def _store(conn: asyncpg.Connection, new: NewPickup) -> asyncpg.Record:
    store = await repo.store(conn, new.store_id)
    if store is None or not store["active"]:
        raise NotFound(f"no active store {new.store_id!r}", unknown_stores=[new.store_id])
    if SERVICE_OF[new.kind] not in store["services"]:
        raise Conflict(
            f"store {new.store_id} does not offer {SERVICE_OF[new.kind]}",
            store_id=new.store_id,
            services=list(store["services"]),
        )
    return store


async def _check_capacity(conn: asyncpg.Connection, store: asyncpg.Record, now: datetime) -> None:
    cap = store["pickup_capacity_per_day"]
    if cap is None:
        return
    local = now.astimezone(ZoneInfo(store["timezone"]))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    count = await repo.count_created_between(
        conn, store["store_id"], start, start + timedelta(days=1)
    )
    if not has_capacity(cap, count):
        raise Conflict(
            f"store {store['store_id']} takes no more pickups today (capacity {cap})", capacity=cap
        )


async def _hold_stock(
    conn: asyncpg.Connection,
    store_id: str,
    qty: dict[str, int],
    now: datetime,
    settings: PickupSettings,
) -> None:
    """Lock, compute ATP, refuse with every shortfall. Called inside the transaction."""
    await repo.lock_stock(conn, store_id, list(qty))
    stock = await availability_repo.load_sku_stock(conn, list(qty))
    tiers = await availability_repo.load_buffer_tiers(conn)
    available: dict[tuple[str, str], int] = {}
    for sku in qty:
        s = stock[sku]
        erp, row_as_of = s.rows.get(store_id, (0, None))
        as_of = max((d for d in (row_as_of, s.checked_at) if d), default=None)
        if as_of is None or now - as_of > settings.max_staleness:
            raise ServiceUnavailable(
                f"the stock of {sku} at store {store_id} is too old to promise "
                f"(as of {as_of.isoformat() if as_of else 'never'}); try again shortly",
                sku=sku,
                store_id=store_id,
            )
        holds = [OpenHold(q, a) for q, a in s.holds.get(store_id, ())]
        position = position_of(erp, pending_hold_qty(holds, as_of), tiers.resolve(store_id, sku))
        available[(store_id, sku)] = position.available if position.offered_for_pickup else 0
    ensure_available([StockRequest(store_id, sku, n) for sku, n in qty.items()], available)


async def create_pickup(
    pool: asyncpg.Pool,
    new: NewPickup,
    actor: Actor,
    idem: Idempotency | None,
    settings: PickupSettings,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, answer). 201 new; 200 an order already created for that PrestaShop id."""
    async with pool.acquire() as conn:
        items = await resolve_items(conn, [line.lookup for line in new.lines])
        async with conn.transaction():
            if idem:
                replay = await idempotency.begin(
                    conn, idem.principal, idem.key, "create_pickup", idem.body
                )
                if replay:
                    return replay.status, replay.body
            status, body = await _create(conn, new, items, actor, settings)
            if idem:
                await idempotency.finish(conn, idem.principal, idem.key, status, body)
            return status, body


async def _create(
    conn: asyncpg.Connection,
    new: NewPickup,
    items: list[Any],
    actor: Actor,
    settings: PickupSettings,
) -> tuple[int, dict[str, Any]]:
    if new.ps_order_id is not None:
        existing = await repo.by_order(conn, new.ps_order_id)
        if existing is not None:
            return 200, await pickup_view(conn, existing)
    now = utcnow()
    store = await _store(conn, new)
    await _check_capacity(conn, store, now)
    qty: dict[str, int] = defaultdict(int)
    for item, line in zip(items, new.lines, strict=True):
        qty[item.sku] += line.quantity
    await _hold_stock(conn, new.store_id, dict(qty), now, settings)
    hours = hours_from_json(store["opening_hours"])
    code, salt, pickup_id = new_pickup_code(), new_code_salt(), uuid.uuid4()
    row = {
        "id": pickup_id,
        "kind": new.kind,
        "store_id": new.store_id,
        "customer": new.customer,
        "ps_order_id": new.ps_order_id,
        "ps_order_reference": new.ps_order_reference,
        "payment_status": new.payment_status,
        "currency": new.currency,
        "code_hash": hash_pickup_code(code, salt, iterations=settings.code_iterations),
        "code_salt": salt,
        "created_at": now,
        "deadline": pickup_deadline(now, store["hold_hours"], hours, store["timezone"]),
        "ready_by": ready_by(now, settings.prep_minutes, hours, store["timezone"]),
    }
    lines = [
        {
            "sku": i.sku,
            "ean": i.ean,
            "quantity": x.quantity,
            "unit_price": x.unit_price,
            "label": x.label,
        }
        for i, x in zip(items, new.lines, strict=True)
    ]
    await repo.create_all(
        conn, row, lines, dict(qty), (actor.kind.value, actor.id), _created_payload(row, lines)
    )
    body = created_view(row, lines, actor.kind.value, actor.id)
    body["pickup_code"] = code  # shown once (and replayed to the same Idempotency-Key)
    return 201, body


def _created_payload(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "pickup_id": str(row["id"]),
        "kind": row["kind"],
        "store_id": row["store_id"],
        "customer": row["customer"],
        "currency": row["currency"],
        "created_at": row["created_at"].isoformat(),
        "expires_at": row["deadline"].isoformat(),
        "external_reference": row["ps_order_reference"] or "",
        "paid": row["payment_status"] == "paid",
        "lines": [
            {**x, "unit_price": None if x["unit_price"] is None else str(x["unit_price"])}
            for x in lines
        ],
    }


def parse_pickup_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no pickup with id {text!r}") from None


def check_lines(new: NewPickup) -> None:
    if new.kind == "order" and any(line.unit_price is None for line in new.lines):
        raise InvalidInput(
            "an order needs a unit price on every line",
            [
                {"loc": ["lines", i, "unit_price"], "msg": "required for orders", "type": "missing"}
                for i, line in enumerate(new.lines)
                if line.unit_price is None
            ],
        )
