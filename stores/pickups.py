"""Repository of pickups: rows, lines, holds, history, outbox rows and idempotency keys.

Explicit connection, never commits: the use case owns the transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from stores.db import jsonb

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
_BY_ORDER = "SELECT id FROM pickups WHERE ps_order_id = $1"
_LINES = "SELECT * FROM pickup_lines WHERE pickup_id = $1 ORDER BY line_no"
_HISTORY_OF = "SELECT * FROM pickup_history WHERE pickup_id = $1 ORDER BY id"
_SET_STATE = "UPDATE pickups SET state = $2, updated_at = $3 WHERE id = $1"
_SET_FAILURES = """
UPDATE pickups SET code_failures = $2,
    code_locked_at = CASE WHEN $3 THEN coalesce(code_locked_at, now()) ELSE code_locked_at END
WHERE id = $1
"""
# Count one more creation at a store on a local day ($2), the row locked until commit; the
# first of the day starts from the pickups already created in [$3, $4) (sql/0013).
_COUNT_ONE_MORE = """
INSERT INTO pickup_day_counts AS c (store_id, day, created)
VALUES ($1, $2, 1 + (SELECT count(*) FROM pickups
                     WHERE store_id = $1 AND created_at >= $3 AND created_at < $4))
ON CONFLICT (store_id, day) DO UPDATE SET created = c.created + 1
RETURNING created
"""
_DUE = """
SELECT id FROM pickups WHERE state IN ('confirmed', 'ready') AND deadline < $1
ORDER BY deadline, id LIMIT $2 FOR UPDATE SKIP LOCKED
"""


# The end of both creation reads ($1 the store, $2 the SKUs): the SKU checks, the buffer rows
# that can apply, and the store (its columns are selected above).
_CHECKS_BUFFERS_STORE = """
    (SELECT array_agg(ROW(k.sku, k.checked_at)) FROM stock_sku_checks k
     WHERE k.sku = ANY($2::text[])) AS checks,
    (SELECT array_agg(ROW(b.store_id, b.sku, b.safety_stock, b.low_stock, b.hide_below))
     FROM stock_buffers b
     WHERE (b.store_id = $1 OR b.store_id IS NULL)
       AND (b.sku = ANY($2::text[]) OR b.sku IS NULL)) AS buffers
FROM (SELECT 1) AS one
LEFT JOIN stores st ON st.store_id = $1
"""


# What a new pickup reads, in two statements:
# 1. ``_PREPARE``: claim the Idempotency-Key (if another transaction holds it uncommitted, wait
#    for it: an InitPlan of the lock, so it is done before any stock row is locked), lock this
#    store's snapshot rows of the SKUs in (store, sku) order (no deadlocks; a locked row is read
#    as last committed), and read the store, the SKU checks, the buffer rows that can apply and
#    an existing pickup for the PrestaShop order id;
# 2. ``_OPEN_HOLDS``, AFTER the lock, in its own statement: a statement reads the database as it
#    was when it began, so holds read by statement 1 would miss those committed by the
#    transaction its lock waited for, and oversell.
_PREPARE = (
    """
WITH claim AS (
    INSERT INTO idempotency_keys (principal, key, operation, request_hash)
    SELECT $3::text, $4::text, $5::text, $6::bytea WHERE $4::text IS NOT NULL
    ON CONFLICT (principal, key) DO NOTHING
    RETURNING 1
), claimed AS MATERIALIZED (
    SELECT count(*)::int AS n FROM claim
), locked AS MATERIALIZED (
    SELECT s.sku, s.erp_available, greatest(s.as_of, sc.checked_at) AS as_of
    FROM stock s
    LEFT JOIN stock_store_checks sc ON sc.store_id = s.store_id
    WHERE s.store_id = $1 AND s.sku = ANY($2::text[]) AND (SELECT n FROM claimed) >= 0
    ORDER BY s.store_id, s.sku
    FOR UPDATE OF s
)
SELECT
    (SELECT n FROM claimed) AS claimed,
    (SELECT id FROM pickups WHERE ps_order_id = $7) AS existing_order,
    st.store_id, st.timezone, st.opening_hours, st.services, st.pickup_capacity_per_day,
    st.hold_hours, st.active,
    (SELECT array_agg(ROW(sku, erp_available, as_of)) FROM locked) AS rows,
"""
    + _CHECKS_BUFFERS_STORE
)
_OPEN_HOLDS = """
SELECT sku, qty, erp_acked_at FROM stock_holds
WHERE store_id = $1 AND sku = ANY($2::text[]) AND released_at IS NULL
"""


# Everything a new pickup writes, in one statement (one round trip): the pickup, its lines, its
# holds, the first history row, the outbox row, the idempotent answer and the stock NOTIFY.
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
    INSERT INTO pickup_history (pickup_id, from_state, to_state, event, actor_kind, actor_id, at,
                                actor_name)
    VALUES ($1, NULL, 'confirmed', 'create', $22, $23, $13, $29)
), o AS (
    INSERT INTO outbox (aggregate, aggregate_id, kind, payload)
    VALUES ('pickup', $1::text, 'pickup.created', $24::text::jsonb)
), i AS (
    UPDATE idempotency_keys SET status = 201, response = $28::text::jsonb
    WHERE principal = $26 AND key = $27
)
SELECT pg_notify('omnistock_stock', $25)
"""


# What an optimistic creation reads, in one statement (one snapshot) and without a lock:
# whether the Idempotency-Key is already stored, an existing pickup for the PrestaShop order id,
# the store, this store's stock rows of the SKUs (as_of both as stored and with the store's
# last check), their open holds with their ids, the SKU checks and the buffer rows. The write
# (``omnistock_create_pickup``, sql/0010) then checks, under the lock, that it still holds.
_READ = (
    """
SELECT
    EXISTS (SELECT 1 FROM idempotency_keys WHERE principal = $3 AND key = $4) AS key_taken,
    (SELECT id FROM pickups WHERE ps_order_id = $5) AS existing_order,
    st.store_id, st.timezone, st.opening_hours, st.services, st.pickup_capacity_per_day,
    st.hold_hours, st.active,
    (SELECT array_agg(ROW(s.sku, s.erp_available, s.as_of, greatest(s.as_of, sc.checked_at)))
     FROM stock s LEFT JOIN stock_store_checks sc ON sc.store_id = s.store_id
     WHERE s.store_id = $1 AND s.sku = ANY($2::text[])) AS rows,
    (SELECT array_agg(ROW(h.id, h.sku, h.qty, h.erp_acked_at)) FROM stock_holds h
     WHERE h.store_id = $1 AND h.sku = ANY($2::text[]) AND h.released_at IS NULL) AS holds,
"""
    + _CHECKS_BUFFERS_STORE
)
_CREATE_GUARDED = """
SELECT omnistock_create_pickup($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $11, $12,
    $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27::text::jsonb, $28,
    $29, $30, $31, $32, $33::text::jsonb, $34, $35, $36, $37, $38)
"""
CAPACITY_SQLSTATE = "OMCAP"  # omnistock_create_pickup: the store's daily capacity is reached


@dataclass(frozen=True, slots=True)
class CreateContext:
    """What ``prepare_create`` read, with the stock rows locked."""

    claimed: bool  # this transaction owns the Idempotency-Key (or none was given)
    existing_order: uuid.UUID | None  # a pickup already made for the PrestaShop order id
    store: asyncpg.Record  # store_id is None when there is no such store
    rows: dict[str, tuple[int, datetime | None]]  # sku -> (erp_available, as_of) at the store
    holds: dict[str, list[tuple[int, datetime | None]]]  # sku -> open holds at the store
    checks: dict[str, datetime]  # sku -> last hot-pass read (covers absent rows)
    buffer_rows: list[tuple[str | None, str | None, int | None, int | None, int | None]]


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What ``read_create`` read, unlocked: a ``CreateContext`` and what the write re-checks."""

    key_taken: bool  # the Idempotency-Key is already stored (replay it: the locked path does)
    context: CreateContext
    stored: dict[str, tuple[int, datetime]]  # sku -> (erp_available, as_of) as stored
    seen_holds: list[int]  # ids of the open holds read


async def read_create(
    conn: asyncpg.Connection,
    store_id: str,
    skus: Sequence[str],
    idempotency: tuple[str, str] | None,
    ps_order_id: int | None,
) -> ReadContext:
    """One round trip, no lock: everything a hold needs, for ``create_guarded`` to re-check."""
    principal, key = idempotency or (None, None)
    r = await conn.fetchrow(_READ, store_id, sorted(set(skus)), principal, key, ps_order_id)
    holds: dict[str, list[tuple[int, datetime | None]]] = {}
    seen: list[int] = []
    for hold_id, sku, qty, acked in r["holds"] or ():
        holds.setdefault(sku, []).append((qty, acked))
        seen.append(hold_id)
    rows = r["rows"] or ()
    return ReadContext(
        key_taken=r["key_taken"],
        context=CreateContext(
            claimed=True,
            existing_order=r["existing_order"],
            store=r,
            rows={sku: (erp, as_of) for sku, erp, _, as_of in rows},
            holds=holds,
            checks=dict(r["checks"] or ()),
            buffer_rows=list(r["buffers"] or ()),
        ),
        stored={sku: (erp, as_of) for sku, erp, as_of, _ in rows},
        seen_holds=seen,
    )


def _pickup_args(row: dict[str, Any]) -> tuple[Any, ...]:
    """The pickup row's 13 parameters, in the order both creation statements take them."""
    return (
        row["id"],
        row["kind"],
        row["store_id"],
        jsonb(row["customer"]),
        row["ps_order_id"],
        row["ps_order_reference"],
        row["payment_status"],
        row["currency"],
        row["code_hash"].encode(),
        row["code_salt"],
        row["deadline"],
        row["ready_by"],
        row["created_at"],
    )


def _line_args(lines: Sequence[dict[str, Any]]) -> tuple[list[Any], ...]:
    """The lines as five arrays: sku, ean, quantity, unit price, label."""
    return tuple([x[k] for x in lines] for k in ("sku", "ean", "quantity", "unit_price", "label"))


async def create_guarded(
    conn: asyncpg.Connection,
    read: ReadContext,
    row: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    qty_by_sku: dict[str, int],
    headroom: dict[str, int],
    actor: tuple[str, str, str],
    outbox_payload: dict[str, Any],
    idempotency: tuple[str, str, str, bytes, Any] | None = None,
    capacity: tuple[int, date, datetime, datetime] | None = None,
) -> bool:
    """Write a new pickup in one round trip (its own transaction), if what ``read`` saw still
    holds under the lock: see sql/0010 and sql/0013. False, having written nothing, when the
    Idempotency-Key ``(principal, key, operation, request hash, answer)`` was taken meanwhile.
    Raise ``asyncpg.SerializationError``, having written nothing, when the stock moved; with
    ``capacity`` (the store's cap, local day, day start and end), an ``asyncpg.PostgresError``
    of sqlstate ``CAPACITY_SQLSTATE``, having written nothing, when the day is full."""
    cap, day, start, end = capacity or (None, None, None, None)
    skus = sorted(qty_by_sku)
    principal, key, operation, digest, answer = idempotency or (None, None, None, None, None)
    outcome = await conn.fetchval(
        _CREATE_GUARDED,
        *_pickup_args(row),
        *_line_args(lines),
        skus,
        [qty_by_sku[s] for s in skus],
        [read.stored[s][0] if s in read.stored else None for s in skus],
        [read.stored[s][1] if s in read.stored else None for s in skus],
        [headroom[s] for s in skus],
        read.seen_holds,
        actor[0],
        actor[1],
        jsonb(outbox_payload),
        jsonb(skus),
        principal,
        key,
        operation,
        digest,
        jsonb(answer),
        cap,
        day,
        start,
        end,
        actor[2],
    )
    return bool(outcome == "created")


async def prepare_create(
    conn: asyncpg.Connection,
    store_id: str,
    skus: Sequence[str],
    idempotency: tuple[str, str, str, bytes] | None,
    ps_order_id: int | None,
) -> CreateContext:
    """Claim the key, lock the stock rows, then read everything a hold needs: two round trips
    (the open holds must be read by a statement that starts after the lock is granted)."""
    principal, key, operation, digest = idempotency or (None, None, None, None)
    wanted = sorted(set(skus))
    r = await conn.fetchrow(
        _PREPARE, store_id, wanted, principal, key, operation, digest, ps_order_id
    )
    holds: dict[str, list[tuple[int, datetime | None]]] = {}
    for sku, qty, acked in await conn.fetch(_OPEN_HOLDS, store_id, wanted):
        holds.setdefault(sku, []).append((qty, acked))
    return CreateContext(
        claimed=idempotency is None or r["claimed"] == 1,
        existing_order=r["existing_order"],
        store=r,
        rows={sku: (erp, as_of) for sku, erp, as_of in r["rows"] or ()},
        holds=holds,
        checks=dict(r["checks"] or ()),
        buffer_rows=list(r["buffers"] or ()),
    )


async def create_all(
    conn: asyncpg.Connection,
    row: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    qty_by_sku: dict[str, int],
    actor: tuple[str, str, str],
    outbox_payload: dict[str, Any],
    idempotency: tuple[str, str, Any] | None = None,
) -> None:
    """Write a new pickup and everything that goes with it, in one round trip; with
    ``(principal, key, answer)``, also store the answer (201) under that Idempotency-Key."""
    skus = sorted(qty_by_sku)
    principal, key, answer = idempotency or (None, None, None)
    await conn.execute(
        _CREATE_ALL,
        *_pickup_args(row),
        list(range(1, len(lines) + 1)),
        *_line_args(lines),
        skus,
        [qty_by_sku[s] for s in skus],
        actor[0],
        actor[1],
        jsonb(outbox_payload),
        jsonb(skus),
        principal,
        key,
        jsonb(answer),
        actor[2],
    )


async def count_one_more(
    conn: asyncpg.Connection, store_id: str, day: date, start: datetime, end: datetime
) -> int:
    """This creation counted at the store on its local ``day`` (spanning ``start``..``end``):
    the day's count with it. The count's row stays locked until the transaction ends, so the
    next creation at this store reads this one's outcome (sql/0013)."""
    return int(await conn.fetchval(_COUNT_ONE_MORE, store_id, day, start, end))


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


async def lock_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    return [r["id"] for r in await conn.fetch(_DUE, now, limit)]
