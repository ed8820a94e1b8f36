"""Repository of staff console sessions. Explicit connection, never commits."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from service.domain.apikeys import Principal

_INSERT = """
INSERT INTO staff_sessions (token_hash, key_id, csrf_token) VALUES ($1, $2::uuid, $3)
"""
# One statement finds a live session of a live key and records the visit.
_TOUCH = """
UPDATE staff_sessions s SET last_seen_at = now()
FROM api_keys k
WHERE s.token_hash = $1 AND s.ended_at IS NULL
  AND s.last_seen_at > now() - $2::interval AND s.created_at > now() - $3::interval
  AND k.id = s.key_id AND k.revoked_at IS NULL
RETURNING k.id, k.role, k.stores, k.label, s.csrf_token
"""
_END = "UPDATE staff_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL"
_END_FOR_KEY = """
UPDATE staff_sessions SET ended_at = now() WHERE key_id = $1::uuid AND ended_at IS NULL
"""
_PURGE = "DELETE FROM staff_sessions WHERE last_seen_at < now() - $1::interval"


async def insert(conn: asyncpg.Connection, token_hash: bytes, key_id: str, csrf: str) -> None:
    await conn.execute(_INSERT, token_hash, key_id, csrf)


async def touch(
    conn: asyncpg.Connection, token_hash: bytes, idle: timedelta, max_age: timedelta
) -> tuple[Principal, str] | None:
    """The session's principal and CSRF token, or None when it is unknown, ended, idle too long,
    too old, or its key is revoked."""
    row = await conn.fetchrow(_TOUCH, token_hash, idle, max_age)
    if row is None:
        return None
    principal = Principal(
        key_id=str(row["id"]), role=row["role"], stores=frozenset(row["stores"]), label=row["label"]
    )
    return principal, row["csrf_token"]


async def end(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute(_END, token_hash)


async def end_for_key(conn: asyncpg.Connection, key_id: str) -> int:
    status = await conn.execute(_END_FOR_KEY, key_id)
    return int(status.split()[-1])


async def purge(conn: asyncpg.Connection, older_than: timedelta) -> None:
    await conn.execute(_PURGE, older_than)
