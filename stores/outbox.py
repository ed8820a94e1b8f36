"""Repository of the outbox: rows written with each change, claimed and settled by the relay.

Explicit connection, never commits. ``claim_next`` must run inside a transaction: the row stays
locked (``FOR UPDATE``) until that transaction ends, so a relay that dies mid-post releases it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

OutboxStatus = Literal["pending", "done", "dead"]
_COLUMNS = """id, aggregate, aggregate_id, kind, payload, status, attempts, next_attempt_at,
    last_error, result, created_at, done_at"""

_APPEND = """
INSERT INTO outbox (aggregate, aggregate_id, kind, payload) VALUES ($1, $2, $3, $4::text::jsonb)
RETURNING id
"""
# Due: pending, its time has come, and no earlier row of the same aggregate is still pending or
# dead (order per aggregate). Rows another relay holds are skipped, never waited for.
_CLAIM = f"""
SELECT {_COLUMNS} FROM outbox o
WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND o.aggregate = ANY($1::text[])
  AND o.id <> ALL($2::bigint[])
  AND NOT EXISTS (
      SELECT 1 FROM outbox e
      WHERE e.aggregate = o.aggregate AND e.aggregate_id = o.aggregate_id AND e.id < o.id
        AND e.status IN ('pending', 'dead'))
ORDER BY o.next_attempt_at, o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
"""
_DONE = """
UPDATE outbox SET status = 'done', attempts = attempts + 1, result = $2::text::jsonb,
    done_at = clock_timestamp()
WHERE id = $1
"""
_RETRY = """
UPDATE outbox SET attempts = attempts + 1, last_error = $2,
    next_attempt_at = clock_timestamp() + make_interval(secs => $3)
WHERE id = $1
"""
_DEAD = "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = $2 WHERE id = $1"
_GET = f"SELECT {_COLUMNS} FROM outbox WHERE id = $1"
_PAGE = f"""
SELECT {_COLUMNS} FROM outbox
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR aggregate_id = $2) AND id > $3
ORDER BY id LIMIT $4
"""
# Every row of one aggregate, locked; fails at once (LockNotAvailableError) when a relay holds one.
_LOCK_AGGREGATE = f"""
SELECT {_COLUMNS} FROM outbox WHERE aggregate = $1 AND aggregate_id = $2
ORDER BY id FOR UPDATE NOWAIT
"""
_REPLAY = """
UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'dead'
RETURNING id
"""
_REPLAY_ALL_DEAD = """
UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now()
WHERE status = 'dead'
RETURNING id
"""
_GAUGES = """
SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') AS pending,
       (SELECT extract(epoch FROM now() - min(created_at)) FROM outbox
        WHERE status = 'pending') AS oldest_pending_s,
       (SELECT count(*) FROM outbox WHERE status = 'dead') AS dead
"""
# Retention: one bounded batch of done rows finished before $1, oldest first (the partial index
# outbox_done_at of sql/0009). Rows another transaction holds are skipped, never waited for, so a
# purge neither blocks nor is blocked by the relay or another purge. Pending and dead rows are
# never selected.
_PURGE_DONE = """
WITH doomed AS (
    SELECT id FROM outbox
    WHERE status = 'done' AND done_at < $1
    ORDER BY done_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
DELETE FROM outbox o USING doomed WHERE o.id = doomed.id AND o.status = 'done'
"""
# The ERP booked the pickup's document: remember its key, and from when its holds are booked.
_PICKUP_DOCUMENT = "SELECT erp_document FROM pickups WHERE id = $1"
_PICKUP_SUMMARY = """
SELECT id, kind, store_id, ps_order_id, ps_order_reference FROM pickups WHERE id = $1
"""
_ACK_PICKUP = """
UPDATE pickups SET erp_document = $2::text::jsonb,
    erp_acked_at = coalesce(erp_acked_at, clock_timestamp())
WHERE id = $1
"""
_ACK_HOLDS = """
UPDATE stock_holds SET erp_acked_at = coalesce(erp_acked_at, clock_timestamp())
WHERE pickup_id = $1
RETURNING sku
"""


def json_value(value: Any) -> Any:
    """A jsonb column as Python values, with or without the pool's jsonb codec (and when a
    writer stored the JSON text as a JSON string)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    aggregate: str
    aggregate_id: str
    kind: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    done_at: datetime | None


def _row(r: asyncpg.Record) -> OutboxRow:
    payload = json_value(r["payload"])
    return OutboxRow(
        id=r["id"],
        aggregate=r["aggregate"],
        aggregate_id=r["aggregate_id"],
        kind=r["kind"],
        payload=payload if isinstance(payload, dict) else {"value": payload},
        status=r["status"],
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
        last_error=r["last_error"],
        result=json_value(r["result"]),
        created_at=r["created_at"],
        done_at=r["done_at"],
    )


async def append(
    conn: asyncpg.Connection, aggregate: str, aggregate_id: str, kind: str, payload: Any
) -> int:
    """Add a pending row (call it in the transaction of the change it reports)."""
    row_id: int = await conn.fetchval(
        _APPEND, aggregate, aggregate_id, kind, json.dumps(payload, default=str)
    )
    return row_id


async def claim_next(
    conn: asyncpg.Connection, aggregates: Sequence[str], skip: Sequence[int] = ()
) -> OutboxRow | None:
    """Lock the next due row of these aggregates (but not the ``skip`` ids) until the
    transaction ends; None: none due."""
    row = await conn.fetchrow(_CLAIM, list(aggregates), list(skip))
    return _row(row) if row is not None else None


async def mark_done(conn: asyncpg.Connection, row_id: int, result: Any) -> None:
    await conn.execute(_DONE, row_id, json.dumps(result, default=str))


async def mark_retry(conn: asyncpg.Connection, row_id: int, error: str, delay_s: float) -> None:
    await conn.execute(_RETRY, row_id, error, delay_s)


async def mark_dead(conn: asyncpg.Connection, row_id: int, error: str) -> None:
    await conn.execute(_DEAD, row_id, error)


async def get(conn: asyncpg.Connection, row_id: int) -> OutboxRow | None:
    row = await conn.fetchrow(_GET, row_id)
    return _row(row) if row is not None else None


async def page(
    conn: asyncpg.Connection,
    *,
    status: OutboxStatus | None,
    aggregate_id: str | None,
    after_id: int,
    limit: int,
) -> list[OutboxRow]:
    """Rows by id, after ``after_id``."""
    return [_row(r) for r in await conn.fetch(_PAGE, status, aggregate_id, after_id, limit)]


async def lock_aggregate(
    conn: asyncpg.Connection, aggregate: str, aggregate_id: str
) -> list[OutboxRow]:
    """Lock the rows of one aggregate (in a transaction); raises
    ``asyncpg.LockNotAvailableError`` when one is being posted right now."""
    return [_row(r) for r in await conn.fetch(_LOCK_AGGREGATE, aggregate, aggregate_id)]


async def replay(conn: asyncpg.Connection, row_ids: Sequence[int]) -> list[int]:
    """Dead rows among ``row_ids`` back to pending, attempts reset, due now; their ids."""
    return sorted(r["id"] for r in await conn.fetch(_REPLAY, list(row_ids)))


async def replay_all_dead(conn: asyncpg.Connection) -> list[int]:
    return sorted(r["id"] for r in await conn.fetch(_REPLAY_ALL_DEAD))


async def gauges(conn: asyncpg.Connection) -> tuple[int, float, int]:
    """(pending rows, age in seconds of the oldest pending row or 0, dead rows)."""
    row = await conn.fetchrow(_GAUGES)
    assert row is not None
    return row["pending"], float(row["oldest_pending_s"] or 0), row["dead"]


async def pickup_document(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> tuple[bool, Any]:
    """(whether the pickup exists, its stored ERP document key or None)."""
    row = await conn.fetchrow(_PICKUP_DOCUMENT, pickup_id)
    if row is None:
        return False, None
    return True, json_value(row["erp_document"])


@dataclass(frozen=True, slots=True)
class PickupSummary:
    """What a pickup notification tells about its pickup."""

    id: uuid.UUID
    kind: str
    store_id: str
    ps_order_id: int | None
    ps_order_reference: str | None


async def pickup_summary(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> PickupSummary | None:
    row = await conn.fetchrow(_PICKUP_SUMMARY, pickup_id)
    if row is None:
        return None
    return PickupSummary(
        id=row["id"],
        kind=row["kind"],
        store_id=row["store_id"],
        ps_order_id=row["ps_order_id"],
        ps_order_reference=row["ps_order_reference"],
    )


async def acknowledge(
    conn: asyncpg.Connection, pickup_id: uuid.UUID, document: dict[str, Any]
) -> list[str]:
    """Store the ERP document key on the pickup and stamp it and its holds acknowledged (the
    first acknowledgement wins); return the SKUs of its holds."""
    await conn.execute(_ACK_PICKUP, pickup_id, json.dumps(document))
    return [r["sku"] for r in await conn.fetch(_ACK_HOLDS, pickup_id)]


async def purge_done(conn: asyncpg.Connection, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` done rows whose ``done_at`` is before ``before`` (skipping rows
    locked elsewhere); how many were deleted. Run it outside a transaction, or commit soon:
    each batch is meant to be its own short transaction."""
    status = await conn.execute(_PURGE_DONE, before, limit)
    return int(status.split()[-1])
