"""Staff console sessions: a staff key signed in once becomes a server session.

The browser gets a random session token in an HttpOnly cookie and a CSRF token to echo on each
write; the key itself is never kept by the browser. PostgreSQL holds the sessions (only the
token's SHA-256), so every replica sees them, and revoking the key ends them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service.domain.apikeys import Principal, hash_api_key
from service.errors import AppError, Forbidden
from stores import api_keys, staff_sessions
from stores import store_directory as directory_repo


class SignInRefused(AppError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


@dataclass(frozen=True, slots=True)
class SessionTimes:
    idle: timedelta
    max_age: timedelta


@dataclass(frozen=True, slots=True)
class StaffSession:
    token: str  # only in the sign-in answer (it goes into the cookie)
    principal: Principal
    csrf_token: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def sign_in(pool: asyncpg.Pool, key: str, times: SessionTimes) -> StaffSession:
    """A new session for a live staff key; 401 unknown or revoked key, 403 not a staff key."""
    async with pool.acquire() as conn, conn.transaction():
        principal = await api_keys.principal_by_hash(conn, hash_api_key(key.strip()))
        if principal is None:
            raise SignInRefused("this key is unknown or revoked")
        if principal.role != "staff":
            raise Forbidden(f"the console signs in with a staff key, not a {principal.role} key")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await staff_sessions.insert(conn, _hash(token), principal.key_id, csrf)
        await staff_sessions.purge(conn, times.max_age + timedelta(days=1))
    return StaffSession(token, principal, csrf)


async def resume(pool: asyncpg.Pool, token: str, times: SessionTimes) -> StaffSession | None:
    """The live session behind a cookie (and its idle clock restarted), or None."""
    if not token or len(token) > 200:
        return None
    async with pool.acquire() as conn:
        found = await staff_sessions.touch(conn, _hash(token), times.idle, times.max_age)
    if found is None:
        return None
    principal, csrf = found
    return StaffSession(token, principal, csrf)


async def sign_out(pool: asyncpg.Pool, token: str) -> None:
    async with pool.acquire() as conn:
        await staff_sessions.end(conn, _hash(token))


async def store_names(pool: asyncpg.Pool, principal: Principal) -> list[tuple[str, str]]:
    """The key's stores as (store id, name), in store id order; a store missing from the
    directory keeps its id as its name."""
    ids = sorted(principal.stores)
    async with pool.acquire() as conn:
        names = {r.store_id: r.name for r in await directory_repo.get_many(conn, ids)}
    return [(i, names.get(i) or i) for i in ids]
