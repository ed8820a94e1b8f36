"""Repository of API keys. Explicit connection, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain.apikeys import Principal, Role

_INSERT = """
INSERT INTO api_keys (key_hash, prefix, role, stores, label)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, prefix, role, stores, label, created_at, revoked_at
"""
_BY_HASH = """
SELECT id, role, stores, label FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
"""
_LIST = """
SELECT id, prefix, role, stores, label, created_at, revoked_at
FROM api_keys
WHERE ($1 OR revoked_at IS NULL)
ORDER BY created_at, id
"""
_REVOKE = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING id, prefix, role, stores, label, created_at, revoked_at
"""
_LOCK_ACTIVE_ADMINS = """
SELECT id::text FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL ORDER BY id FOR UPDATE
"""
_REVOKE_BY_LABEL = """
UPDATE api_keys SET revoked_at = now() WHERE label = $1 AND revoked_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    prefix: str
    role: Role
    stores: tuple[str, ...]
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _record(row: asyncpg.Record) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=str(row["id"]),
        prefix=row["prefix"],
        role=row["role"],
        stores=tuple(row["stores"]),
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    key_hash: bytes,
    prefix: str,
    role: Role,
    stores: Sequence[str],
    label: str,
) -> ApiKeyRecord:
    row = await conn.fetchrow(_INSERT, key_hash, prefix, role, list(stores), label)
    assert row is not None
    return _record(row)


async def principal_by_hash(conn: asyncpg.Connection, key_hash: bytes) -> Principal | None:
    row = await conn.fetchrow(_BY_HASH, key_hash)
    if row is None:
        return None
    return Principal(
        key_id=str(row["id"]), role=row["role"], stores=frozenset(row["stores"]), label=row["label"]
    )


async def list_keys(conn: asyncpg.Connection, *, include_revoked: bool) -> list[ApiKeyRecord]:
    return [_record(r) for r in await conn.fetch(_LIST, include_revoked)]


async def revoke(conn: asyncpg.Connection, key_id: str) -> ApiKeyRecord | None:
    row = await conn.fetchrow(_REVOKE, key_id)
    return _record(row) if row else None


async def lock_active_admins(conn: asyncpg.Connection) -> list[str]:
    """Ids of the active admin keys, locked until the transaction ends."""
    return [r["id"] for r in await conn.fetch(_LOCK_ACTIVE_ADMINS)]


async def revoke_by_label(conn: asyncpg.Connection, label: str) -> None:
    await conn.execute(_REVOKE_BY_LABEL, label)
