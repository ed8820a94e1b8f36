"""The pickup lifecycle after creation: ready, collect (with the code), cancel, expire, no-show.

Each transition locks the pickup row, asks the domain state machine, writes the new state, a
history row and an outbox row in one transaction, and releases the stock holds when the pickup
ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from service.domain.errors import IllegalTransition, PickupCodeLocked
from service.domain.pickup_codes import CodeAttempts, CodeHasher, UnknownCodeKey, check_pickup_code
from service.domain.pickups import (
    Actor,
    ActorKind,
    PickupEvent,
    due_event,
    is_terminal,
    outbox_kind,
    transition,
)
from service.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from service.usecases.clock import utcnow
from service.usecases.pickups.views import PickupView, read_view
from stores import pickups as repo
from stores.notify import STOCK_CHANNEL, notify_changed


class CodeLocked(AppError):
    status = 423
    slug = "pickup-code-locked"
    title = "Pickup code locked"


class WrongCode(InvalidInput):
    """A wrong pickup code (422); ``attempts_left`` says how many remain before the lock."""

    def __init__(self, remaining: int) -> None:
        msg = f"wrong code; {remaining} attempt(s) left"
        super().__init__("wrong pickup code", [{"loc": ["code"], "msg": msg, "type": "wrong_code"}])
        self.extra["attempts_left"] = remaining


async def _apply(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    event: PickupEvent,
    actor: Actor,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    try:
        new_state = transition(row["state"], event)
    except IllegalTransition as exc:
        raise Conflict(str(exc), current_state=exc.current, allowed=list(exc.allowed)) from None
    if not actor.may(event):
        raise Forbidden(f"a {actor.kind.value} may not {event.value} a pickup")
    await repo.set_state(conn, row["id"], new_state.value, now)
    await repo.add_history(
        conn,
        row["id"],
        row["state"],
        new_state.value,
        event.value,
        actor.kind.value,
        actor.id,
        now,
        detail,
        actor_name=actor.name,
    )
    payload = {"pickup_id": str(row["id"]), "at": now.isoformat()}
    await repo.add_outbox(conn, row["id"], outbox_kind(new_state), payload)
    if is_terminal(new_state):
        released = await repo.release_holds(conn, row["id"], now)
        await notify_changed(conn, STOCK_CHANNEL, released)


async def _locked(conn: asyncpg.Connection, pickup_id: uuid.UUID) -> asyncpg.Record:
    row = await repo.get(conn, pickup_id, lock=True)
    if row is None:
        raise NotFound(f"no pickup with id {pickup_id}")
    return row


async def store_of(pool: asyncpg.Pool, pickup_id: uuid.UUID) -> str:
    async with pool.acquire() as conn:
        row = await repo.get(conn, pickup_id)
    if row is None:
        raise NotFound(f"no pickup with id {pickup_id}")
    return str(row["store_id"])


async def change(
    pool: asyncpg.Pool,
    pickup_id: uuid.UUID,
    event: PickupEvent,
    actor: Actor,
    detail: dict[str, Any] | None = None,
) -> PickupView:
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await _locked(conn, pickup_id)
            await _apply(conn, row, event, actor, utcnow(), detail)
        return await read_view(conn, pickup_id)


class CodeKeyMissing(AppError):
    """The code was stored under a pickup-code key this server was not given."""

    status = 409
    slug = "pickup-code-key-missing"
    title = "Pickup code cannot be checked"


async def collect(
    pool: asyncpg.Pool,
    pickup_id: uuid.UUID,
    code: str,
    actor: Actor,
    max_attempts: int,
    hasher: CodeHasher,
) -> PickupView:
    """Hand over the goods: the code must match; wrong codes count (even as the request fails)
    and lock the pickup after ``max_attempts``."""
    async with pool.acquire() as conn:
        failure: AppError | None = None
        async with conn.transaction():
            row = await _locked(conn, pickup_id)
            if row["state"] != "ready":  # say so before spending an attempt
                await _apply(conn, row, PickupEvent.COLLECT, actor, utcnow())
            attempts = CodeAttempts(row["code_failures"], max_attempts)
            try:
                ok, after = check_pickup_code(
                    code,
                    bytes(row["code_salt"]),
                    bytes(row["code_hash"]).decode(),
                    attempts,
                    hasher,
                )
            except PickupCodeLocked as exc:
                raise CodeLocked(
                    f"{exc}; a manager must cancel or hand over manually", failures=exc.failures
                ) from None
            except UnknownCodeKey as exc:  # no attempt counted: nothing was checked
                raise CodeKeyMissing(f"{exc}; or a manager hands over manually") from None
            if ok:
                await _apply(conn, row, PickupEvent.COLLECT, actor, utcnow())
            else:
                await repo.set_code_failures(conn, pickup_id, after.failures, after.locked)
                failure = WrongCode(after.remaining)
        if failure:
            raise failure  # after the commit: the failed attempt is recorded
        return await read_view(conn, pickup_id)


async def code_matches(
    pool: asyncpg.Pool, pickup_id: uuid.UUID, code: str, hasher: CodeHasher
) -> bool:
    """Whether ``code`` is the pickup's code, without counting an attempt (for the storefront,
    which was given the code at creation and asks for its QR code)."""
    async with pool.acquire() as conn:
        row = await repo.get(conn, pickup_id)
    if row is None:
        raise NotFound(f"no pickup with id {pickup_id}")
    try:
        return hasher.verify(code, bytes(row["code_salt"]), bytes(row["code_hash"]).decode())
    except UnknownCodeKey as exc:
        raise CodeKeyMissing(str(exc)) from None


async def get(pool: asyncpg.Pool, pickup_id: uuid.UUID) -> PickupView:
    async with pool.acquire() as conn:
        return await read_view(conn, pickup_id)


async def expire_due(pool: asyncpg.Pool, *, limit: int = 200) -> int:
    """The sweeper: expire or no-show every open pickup past its deadline. Safe to run in many
    workers at once (rows are claimed with SKIP LOCKED)."""
    now, system = utcnow(), Actor(ActorKind.SYSTEM)
    done = 0
    async with pool.acquire() as conn, conn.transaction():
        for pickup_id in await repo.lock_due(conn, now, limit):
            row = await repo.get(conn, pickup_id)
            assert row is not None
            event = due_event(row["state"], row["deadline"], now)
            if event is not None:
                await _apply(conn, row, event, system, now)
                done += 1
    return done
