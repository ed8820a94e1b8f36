"""API key management: create (the key is returned once), list, revoke, authenticate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from service.domain.apikeys import (
    ROLES,
    Principal,
    Role,
    display_prefix,
    hash_api_key,
    new_api_key,
)
from service.errors import Conflict, InvalidInput, NotFound
from stores import api_keys, staff_sessions
from stores.api_keys import ApiKeyRecord as ApiKeyRecord


def _check(role: str, stores: Sequence[str]) -> None:
    errors = []
    if role not in ROLES:
        errors.append({"loc": ["role"], "msg": f"role must be one of {', '.join(ROLES)}"})
    elif role == "staff" and not stores:
        errors.append({"loc": ["stores"], "msg": "a staff key must name at least one store"})
    elif role != "staff" and stores:
        errors.append({"loc": ["stores"], "msg": "only staff keys are bound to stores"})
    if any(not s.strip() for s in stores):
        errors.append({"loc": ["stores"], "msg": "store codes must not be blank"})
    if errors:
        raise InvalidInput("the API key request is invalid", errors)


async def create_key(
    pool: asyncpg.Pool, role: str, stores: Sequence[str] = (), label: str = ""
) -> tuple[str, ApiKeyRecord]:
    """Create a key; return the plain key (shown once, never stored) and its record."""
    _check(role, stores)
    key = new_api_key()
    async with pool.acquire() as conn:
        record = await api_keys.insert(
            conn,
            key_hash=hash_api_key(key),
            prefix=display_prefix(key),
            role=role,  # type: ignore[arg-type]
            stores=sorted({s.strip() for s in stores}),
            label=label,
        )
    return key, record


async def list_keys(pool: asyncpg.Pool, *, include_revoked: bool = False) -> list[ApiKeyRecord]:
    async with pool.acquire() as conn:
        return await api_keys.list_keys(conn, include_revoked=include_revoked)


async def revoke_key(
    pool: asyncpg.Pool, key_id: str, *, keep_an_admin: bool = False
) -> ApiKeyRecord:
    """Revoke a key. With ``keep_an_admin`` (the API), the last active admin key is refused
    (409): revoking it through the API would lock the operator out. The active admin keys are
    locked meanwhile, so two admins revoking each other at once cannot both succeed."""
    try:
        key_id = str(uuid.UUID(key_id))
    except ValueError:
        raise NotFound(f"no API key with id {key_id!r}") from None
    async with pool.acquire() as conn, conn.transaction():
        if keep_an_admin and await api_keys.lock_active_admins(conn) == [key_id]:
            raise Conflict(
                "this is the last active admin key: create another admin key before revoking it",
                key_id=key_id,
            )
        record = await api_keys.revoke(conn, key_id)
        if record is not None:
            await staff_sessions.end_for_key(conn, key_id)  # its console sessions end with it
    if record is None:
        raise NotFound(f"no API key with id {key_id!r}")
    return record


async def replace_labelled_key(
    pool: asyncpg.Pool, role: Role, label: str, stores: Sequence[str] = ()
) -> str:
    """Revoke the keys with ``label`` and create a new one (the demo uses it at each start)."""
    async with pool.acquire() as conn:
        await api_keys.revoke_by_label(conn, label)
    key, _ = await create_key(pool, role, stores, label)
    return key


async def authenticate(pool: asyncpg.Pool, key: str) -> Principal | None:
    async with pool.acquire() as conn:
        return await api_keys.principal_by_hash(conn, hash_api_key(key))
