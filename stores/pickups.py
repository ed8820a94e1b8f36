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

_LOCK_STOCK = """
SELECT store_id, sku FROM stock WHERE store_id = $1 AND sku = ANY($2::text[])
ORDER BY store_id, sku FOR UPDATE
"""
_RELEASE_HOLDS = """
UPDATE stock_holds SET released_at = $2 WHERE pickup_id = $1 AND released_at IS NULL
RETURNING sku
"""
_HISTORY = """
INSERT INTO pickup_history (pickup_id, from_state, to_state, event, actor_kind, actor_id, at,
                            detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)
"""
_OUTBOX = """
INSERT INTO outbox (aggregate, aggregate_id, kind, payload)
VALUES ('pickup', $1, $2, $3::text::jsonb)
"""
_GET = "SELECT * FROM pickups WHERE id = $1"
_GET_FOR_UPDATE = "SELECT * FROM pickups WHERE id = $1 FOR UPDATE"
_BY_ORDER = "SELECT id FROM pickups WHERE ps_order_id = $1"
_LINES = "SELECT * FROM pickup_lines WHERE pickup_id = $1 ORDER BY line_no"
_HISTORY_OF = "SELECT * FROM pickup_history WHERE pickup_id = $1 ORDER BY id"
_SET_STATE = "UPDATE pickups SET state = $2, updated_at = $3 WHERE id = $1"
_SET_FAILURES = """
UPDATE pickups SET code_failures = $2,
    code_locked_at = CASE WHEN $3 THEN coalesce(code_locked_at, now()) ELSE code_locked_at END
WHERE id = $1
"""
_COUNT_DAY = """
SELECT count(*) FROM pickups WHERE store_id = $1 AND created_at >= $2 AND created_at < $3
"""
_STORE = """
SELECT store_id, timezone, opening_hours, services, pickup_capacity_per_day, hold_hours, active
FROM stores WHERE store_id = $1
"""
_PAGE = """
SELECT * FROM pickups
WHERE store_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[]))
  AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
ORDER BY created_at, id LIMIT $5
"""
_DUE = """
SELECT id FROM pickups WHERE state IN ('confirmed', 'ready') AND deadline < $1
ORDER BY deadline, id LIMIT $2 FOR UPDATE SKIP LOCKED
"""


# Everything a new pickup writes, in one statement (one round trip): the pickup, its lines, its
# holds, the first history row, the outbox row, the hot-SKU marks and the stock NOTIFY.
# Foreign keys are checked at the end of the statement, when the pickup row exists.
_CREATE_ALL = """
WITH p AS (
    INSERT INTO pickups (id, kind, state, store_id, customer, ps_order_id, ps_order_reference,
                         payment_status, currency, code_hash, code_salt, deadline, ready_by,
                         created_at, updated_at)
    VALUES ($1, $2, 'confirmed', $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13,
            $13)
), l AS (
    INSERT INTO pickup_lines (pickup_id, line_no, sku, ean, quantity, unit_price, label)
    SELECT $1, n, sku, ean, qty, price, label
    FROM unnest($14::int[], $15::text[], $16::text[], $17::int[], $18::numeric[], $19::text[])
         AS x(n, sku, ean, qty, price, label)
), h AS (
    INSERT INTO stock_holds (pickup_id, store_id, sku, qty, created_at)
    SELECT $1, $3, sku, qty, $13 FROM unnest($20::text[], $21::int[]) AS y(sku, qty)
), hist AS (
    INSERT INTO pickup_history (pickup_id, from_state, to_state, event, actor_kind, actor_id, at)
    VALUES ($1, NULL, 'confirmed', 'create', $22, $23, $13)
), o AS (
    INSERT INTO outbox (aggregate, aggregate_id, kind, payload)
    VALUES ('pickup', $1::text, 'pickup.created', $24::text::jsonb)
), w AS (
    INSERT INTO hot_skus (sku, wanted_at) SELECT unnest($20::text[]), $13
    ON CONFLICT (sku) DO UPDATE SET wanted_at = greatest(hot_skus.wanted_at, EXCLUDED.wanted_at)
)
SELECT pg_notify('omnistock_stock', $25)
"""


async def create_all(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    qty_by_sku: dict[str, int],
    actor: tuple[str, str],
    outbox_payload: dict[str, Any],
) -> None:
    """Write a new pickup and everything that goes with it, in one round trip."""
    skus = sorted(qty_by_sku)
    await conn.execute(
        _CREATE_ALL,
        row["id"],
        row["kind"],
        row["store_id"],
        json.dumps(row["customer"]),
        row["ps_order_id"],
        row["ps_order_reference"],
        row["payment_status"],
        row["currency"],
        row["code_hash"].encode(),
        row["code_salt"],
        row["deadline"],
        row["ready_by"],
        row["created_at"],
        list(range(1, len(lines) + 1)),
        [x["sku"] for x in lines],
        [x["ean"] for x in lines],
        [x["quantity"] for x in lines],
        [x["unit_price"] for x in lines],
        [x["label"] for x in lines],
        skus,
        [qty_by_sku[s] for s in skus],
        actor[0],
        actor[1],
        json.dumps(outbox_payload, default=str),
        json.dumps(skus),
    )


async def lock_stock(conn: asyncpg.Connection, store_id: str, skus: Sequence[str]) -> None:
    """Lock the snapshot rows a hold reads, always in (store, sku) order: no deadlocks."""
    await conn.fetch(_LOCK_STOCK, store_id, sorted(set(skus)))


async def store(conn: asyncpg.Connection, store_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(_STORE, store_id)


async def count_created_between(
    conn: asyncpg.Connection, store_id: str, start: datetime, end: datetime
) -> int:
    return int(await conn.fetchval(_COUNT_DAY, store_id, start, end))


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
    )


async def add_outbox(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, kind: str, payload: dict[str, Any]
) -> None:
    await conn.execute(_OUTBOX, str(pickup_id), kind, json.dumps(payload, default=str))


async def get(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(_GET_FOR_UPDATE if lock else _GET, pickup_id)


async def by_order(conn: asyncpg.Connection, ps_order_id: int) -> uuid.UUID | None:
    value = await conn.fetchval(_BY_ORDER, ps_order_id)
    return value if value is None else uuid.UUID(str(value))


async def lines(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(_LINES, pickup_id))


async def history(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(_HISTORY_OF, pickup_id))


async def set_state(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, state: str, at: datetime
) -> None:
    await conn.execute(_SET_STATE, pickup_id, state, at)


async def set_code_failures(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, failures: int, locked: bool
) -> None:
    await conn.execute(_SET_FAILURES, pickup_id, failures, locked)


async def page(
    conn: asyncpg.Connection,
    store_id: str,
    states: Sequence[str] | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    created, pid = after if after else (None, None)
    return list(
        await conn.fetch(_PAGE, store_id, list(states) if states else None, created, pid, limit)
    )


async def lock_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    return [r["id"] for r in await conn.fetch(_DUE, now, limit)]
