"""Repository of idempotency keys. Explicit connection, never commits."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

_CLAIM = """
INSERT INTO idempotency_keys (principal, key, operation, request_hash)
VALUES ($1, $2, $3, $4) ON CONFLICT (principal, key) DO NOTHING RETURNING 1
"""
_GET = """
SELECT operation, request_hash, status, response FROM idempotency_keys
WHERE principal = $1 AND key = $2
"""
_FINISH = """
UPDATE idempotency_keys SET status = $3, response = $4::text::jsonb
WHERE principal = $1 AND key = $2
"""
_PURGE = "DELETE FROM idempotency_keys WHERE created_at < $1"
# Retention: one bounded batch, oldest first (index idempotency_keys_created). A key whose
# request is still in flight is invisible (uncommitted) or locked, and skipped either way.
_PURGE_BATCH = """
WITH doomed AS (
    SELECT principal, key FROM idempotency_keys
    WHERE created_at < $1
    ORDER BY created_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
DELETE FROM idempotency_keys k USING doomed
WHERE k.principal = doomed.principal AND k.key = doomed.key
"""


async def claim(
    conn: asyncpg.Connection, principal: str, key: str, operation: str, request_hash: bytes
) -> bool:
    """True when this transaction now owns the key. If another transaction holds it
    uncommitted, this waits for it (the primary key), then answers False or True."""
    return await conn.fetchval(_CLAIM, principal, key, operation, request_hash) is not None


async def get(conn: asyncpg.Connection, principal: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(_GET, principal, key)


async def finish(
    conn: asyncpg.Connection, principal: str, key: str, status: int, response: Any
) -> None:
    await conn.execute(_FINISH, principal, key, status, json.dumps(response, default=str))


async def purge(conn: asyncpg.Connection, before: Any) -> int:
    status = await conn.execute(_PURGE, before)
    return int(status.split()[-1])


async def purge_batch(conn: asyncpg.Connection, before: Any, limit: int) -> int:
    """Delete at most ``limit`` keys created before ``before``, skipping keys locked elsewhere;
    how many were deleted."""
    status = await conn.execute(_PURGE_BATCH, before, limit)
    return int(status.split()[-1])
