"""Repository of pickups: rows, lines, holds, history, outbox rows and idempotency keys.

Explicit connection, never commits: the use case owns the transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from service.domain.atp import OpenHold
from stores.availability_reads import buffer_tiers
from stores.db import jsonb
from stores.pickup_records import (
    CreateContext,
    Guard,
    HistoryRecord,
    IdempotencyClaim,
    KeyTaken,
    LineRecord,
    NewPickupRow,
    OrderExists,
    PickupRecord,
    ReadContext,
    StockMoved,
    StockRow,
    StoreFull,
    StoreTerms,
)

_RELEASE_HOLDS = """
UPDATE stock_holds SET released_at = $2 WHERE pickup_id = $1 AND released_at IS NULL
RETURNING sku
"""
_HISTORY = """
INSERT INTO pickup_history (pickup_id, from_state, to_state, event, actor_kind, actor_id, at,
                            detail, actor_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)
"""
_OUTBOX = """
INSERT INTO outbox (aggregate, aggregate_id, kind, payload)
VALUES ('pickup', $1, $2, $3::text::jsonb)
"""
_GET = "SELECT * FROM pickups WHERE id = $1"
_GET_FOR_UPDATE = "SELECT * FROM pickups WHERE id = $1 FOR UPDATE"
_LINES = "SELECT * FROM pickup_lines WHERE pickup_id = $1 ORDER BY line_no"
_HISTORY_OF = "SELECT * FROM pickup_history WHERE pickup_id = $1 ORDER BY id"
_SET_STATE = "UPDATE pickups SET state = $2, updated_at = $3 WHERE id = $1"
_SET_FAILURES = """
UPDATE pickups SET code_failures = $2,
    code_locked_at = CASE WHEN $3 THEN coalesce(code_locked_at, now()) ELSE code_locked_at END
WHERE id = $1
"""
_DUE = """
SELECT id FROM pickups WHERE state IN ('confirmed', 'ready') AND deadline < $1
ORDER BY deadline, id LIMIT $2 FOR UPDATE SKIP LOCKED
"""


# What a creation reads (``omnistock_read_create``, sql/0015: one snapshot, no lock, one generic
# plan per connection): whether the Idempotency-Key is already stored, an existing pickup for the
# PrestaShop order id, the store, this store's stock rows of the SKUs (as_of both as stored and
# with the store's last check), their open holds with their ids, the SKU checks and the buffer
# rows. An optimistic creation reads it unlocked, and the write (``omnistock_create_pickup``,
# sql/0014) then checks under the lock that it still holds. A locked creation reads it after
# ``_PREPARE``, in its own statement: a statement reads the database as it was when it
# began, so holds read by the locking statement would miss those committed by the transaction
# its lock waited for, and oversell.
_READ = "SELECT * FROM omnistock_read_create($1, $2, $3, $4, $5)"

# A locked creation's first statement: claim the Idempotency-Key (if another transaction holds
# it uncommitted, wait for it: an InitPlan gating the lock, so it is done before any stock row
# is locked), then lock this store's stock rows of the SKUs (``omnistock_lock_stock``, sql/0014:
# the one place the lock order is written).
_PREPARE = """
WITH claim AS (
    INSERT INTO idempotency_keys (principal, key, operation, request_hash)
    SELECT $3::text, $4::text, $5::text, $6::bytea WHERE $4::text IS NOT NULL
    ON CONFLICT (principal, key) DO NOTHING
    RETURNING 1
), claimed AS MATERIALIZED (
    SELECT count(*)::int AS n FROM claim
)
SELECT
    (SELECT n FROM claimed) AS claimed,
    (SELECT count(*) FROM omnistock_lock_stock($1, $2::text[])
     WHERE (SELECT n FROM claimed) >= 0) AS locked
"""

# Both paths write through this one call (sql/0014): $1 says which (true: optimistic).
_CREATE = """
SELECT omnistock_create_pickup($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9, $10, $11, $12,
    $13, $14, $15, $16, $17, $18, $19, $20, $21::text::jsonb, $22, $23, $24, $25,
    $26::text::jsonb, $27, $28, $29, $30)
"""
_CAPACITY_SQLSTATE = "OMCAP"  # omnistock_create_pickup: the store's daily capacity is reached
_ORDER_UNIQUE = "pickups_ps_order_unique"


def _store(r: asyncpg.Record) -> StoreTerms | None:
    if r["store_id"] is None:
        return None
    return StoreTerms(
        store_id=r["store_id"],
        active=r["active"],
        services=tuple(r["services"]),
        timezone=r["timezone"],
        opening_hours=r["opening_hours"],
        hold_hours=r["hold_hours"],
        capacity_per_day=r["pickup_capacity_per_day"],
    )


def _read(r: asyncpg.Record, claimed: bool) -> ReadContext:
    """What ``_READ`` read: the context a decision needs (each row's as_of with the store's
    check), and with it what a guarded write re-checks (rows as stored, the open holds' ids)."""
    holds: dict[str, list[OpenHold]] = {}
    seen: list[int] = []
    for hold_id, sku, qty, acked in r["holds"] or ():
        holds.setdefault(sku, []).append(OpenHold(qty, acked))
        seen.append(hold_id)
    rows = r["rows"] or ()
    context = CreateContext(
        claimed=claimed,
        existing_order=r["existing_order"],
        store=_store(r),
        rows={sku: StockRow(erp, as_of) for sku, erp, _, as_of in rows},
        holds=holds,
        checks=dict(r["checks"] or ()),
        buffers=buffer_tiers(r["buffers"] or ()),
    )
    stored = {sku: StockRow(erp, as_of) for sku, erp, as_of, _ in rows}
    return ReadContext(context=context, stored=stored, seen_holds=seen)


async def read_create(
    conn: asyncpg.Connection,
    store_id: str,
    skus: Sequence[str],
    key: IdempotencyClaim | None,
    ps_order_id: int | None,
) -> ReadContext:
    """One round trip, no lock: everything a hold needs, and what ``create`` re-checks.

    Raise ``KeyTaken`` when the key is already stored, ``OrderExists`` when a pickup exists for
    the order: the locked path answers those (``prepare_create``)."""
    principal, name = (key.principal, key.key) if key else (None, None)
    r = await conn.fetchrow(_READ, store_id, sorted(set(skus)), principal, name, ps_order_id)
    if r["key_taken"]:
        raise KeyTaken
    if r["existing_order"] is not None:
        raise OrderExists
    return _read(r, True)


async def prepare_create(
    conn: asyncpg.Connection,
    store_id: str,
    skus: Sequence[str],
    key: IdempotencyClaim | None,
    ps_order_id: int | None,
) -> CreateContext:
    """Claim the key, lock the stock rows, then read everything a hold needs: two round trips
    (the open holds must be read by a statement that starts after the lock is granted). The
    locks and the claimed key are held until the caller's transaction ends."""
    claim = (key.principal, key.key, key.operation, key.request_hash) if key else (None,) * 4
    wanted = sorted(set(skus))
    claimed = await conn.fetchval(_PREPARE, store_id, wanted, *claim)
    r = await conn.fetchrow(_READ, store_id, wanted, None, None, ps_order_id)
    return _read(r, key is None or claimed == 1).context


async def create(conn: asyncpg.Connection, new: NewPickupRow, guard: Guard | None = None) -> None:
    """Write a new pickup and everything that goes with it, in one round trip (sql/0014).

    With ``guard`` (optimistic: no lock held, its own transaction), store the key with the
    answer, lock the stock rows and check that what the read saw still holds; raise
    ``KeyTaken`` when the key was stored meanwhile, ``StockMoved`` when the stock moved.
    Without (locked): the caller's transaction holds the locks and the claimed key
    (``prepare_create``), which gets the answer. Both: raise ``StoreFull`` when the store's day
    is full, ``OrderExists`` when the PrestaShop order was created meanwhile; having written
    nothing."""
    key, capacity = new.key, new.capacity
    skus = sorted(new.held)
    stored = guard.stored if guard else {}
    holds = [
        (
            s,
            new.held[s],
            stored[s].erp_available if s in stored else None,
            stored[s].as_of if s in stored else None,
            guard.headroom[s] if guard else None,
        )
        for s in skus
    ]
    try:
        outcome = await conn.fetchval(
            _CREATE,
            guard is not None,
            new.id,
            new.kind,
            new.store_id,
            jsonb(new.customer),
            new.ps_order_id,
            new.ps_order_reference,
            new.payment_status,
            new.currency,
            new.code_hash.encode(),
            new.code_salt,
            new.deadline,
            new.ready_by,
            new.created_at,
            [(x.sku, x.ean, x.quantity, x.unit_price, x.label) for x in new.lines],
            holds,
            guard.seen_holds if guard else None,
            new.actor.kind.value,
            new.actor.id,
            new.actor.name,
            jsonb(new.outbox_payload),
            key.principal if key else None,
            key.key if key else None,
            key.operation if key else None,
            key.request_hash if key else None,
            jsonb(new.answer),
            capacity.capacity if capacity else None,
            capacity.day if capacity else None,
            capacity.start if capacity else None,
            capacity.end if capacity else None,
        )
    except asyncpg.SerializationError:
        raise StockMoved from None
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == _ORDER_UNIQUE:
            raise OrderExists from None
        raise
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == _CAPACITY_SQLSTATE:
            raise StoreFull from None
        raise
    if outcome == "replay":
        raise KeyTaken


def record_of(
    row: asyncpg.Record,
    lines: Sequence[asyncpg.Record] = (),
    history: Sequence[asyncpg.Record] = (),
) -> PickupRecord:
    """A ``pickups`` row (``SELECT *``), with its lines and history rows if read."""
    return PickupRecord(
        id=row["id"],
        kind=row["kind"],
        state=row["state"],
        store_id=row["store_id"],
        customer=row["customer"],
        ps_order_id=row["ps_order_id"],
        ps_order_reference=row["ps_order_reference"],
        payment_status=row["payment_status"],
        currency=row["currency"],
        deadline=row["deadline"],
        ready_by=row["ready_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        code_failures=row["code_failures"],
        code_locked=row["code_locked_at"] is not None,
        erp_document=row["erp_document"],
        erp_acked_at=row["erp_acked_at"],
        lines=tuple(
            LineRecord(r["line_no"], r["sku"], r["ean"], r["quantity"], r["unit_price"], r["label"])
            for r in lines
        ),
        history=tuple(
            HistoryRecord(
                r["from_state"],
                r["to_state"],
                r["event"],
                r["actor_kind"],
                r["actor_id"],
                r["actor_name"],
                r["at"],
            )
            for r in history
        ),
    )


async def read(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> PickupRecord | None:
    """A pickup with its lines and history; None when there is none."""
    row = await conn.fetchrow(_GET, pickup_id)
    if row is None:
        return None
    lines = await conn.fetch(_LINES, pickup_id)
    return record_of(row, lines, await conn.fetch(_HISTORY_OF, pickup_id))


async def release_holds(conn: asyncpg.Connection, pickup_id: uuid.UUID, at: datetime) -> list[str]:
    return [r["sku"] for r in await conn.fetch(_RELEASE_HOLDS, pickup_id, at)]


async def add_history(
    conn: asyncpg.Connection,
    pickup_id: uuid.UUID,
    from_state: str | None,
    to_state: str,
    event: str,
    actor_kind: str,
    actor_id: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
    *,
    actor_name: str = "",
) -> None:
    await conn.execute(
        _HISTORY,
        pickup_id,
        from_state,
        to_state,
        event,
        actor_kind,
        actor_id,
        at,
        json.dumps(detail or {}),
        actor_name,
    )


async def add_outbox(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, kind: str, payload: dict[str, Any]
) -> None:
    await conn.execute(_OUTBOX, str(pickup_id), kind, json.dumps(payload, default=str))


async def get(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(_GET_FOR_UPDATE if lock else _GET, pickup_id)


async def set_state(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, state: str, at: datetime
) -> None:
    await conn.execute(_SET_STATE, pickup_id, state, at)


async def set_code_failures(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, failures: int, locked: bool
) -> None:
    await conn.execute(_SET_FAILURES, pickup_id, failures, locked)


async def lock_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    return [r["id"] for r in await conn.fetch(_DUE, now, limit)]
