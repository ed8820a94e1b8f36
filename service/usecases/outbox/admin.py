"""Operating the outbox: list rows (cursor pages), show one, replay dead rows (CLI and API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from service.errors import Conflict, NotFound
from service.usecases import cursor as cursors
from stores import outbox as outbox_repo
from stores.outbox import OutboxRow as OutboxRow
from stores.outbox import OutboxStatus as OutboxStatus

_CURSOR_PREFIX = "ob1."


@dataclass(frozen=True, slots=True)
class OutboxPage:
    items: list[OutboxRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ReplayReport:
    replayed: list[int]
    not_found: list[int]
    not_dead: list[int]


def _after(cursor: str) -> int:
    try:
        return int(cursors.decode(cursor, prefix=_CURSOR_PREFIX))
    except ValueError:
        raise cursors.invalid() from None


async def list_rows(
    pool: asyncpg.Pool,
    *,
    status: OutboxStatus | None = None,
    aggregate_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> OutboxPage:
    """Rows oldest first (by id), optionally of one status or one pickup."""
    after = _after(cursor) if cursor is not None else 0
    async with pool.acquire() as conn:
        rows = await outbox_repo.page(
            conn, status=status, aggregate_id=aggregate_id, after_id=after, limit=limit + 1
        )
    page = rows[:limit]
    more = len(rows) > limit
    return OutboxPage(
        page, cursors.encode(str(page[-1].id), prefix=_CURSOR_PREFIX) if more else None
    )


async def get_row(pool: asyncpg.Pool, row_id: int) -> OutboxRow:
    async with pool.acquire() as conn:
        row = await outbox_repo.get(conn, row_id)
    if row is None:
        raise NotFound(f"no outbox row {row_id}", outbox_id=row_id)
    return row


async def replay_rows(pool: asyncpg.Pool, row_ids: Sequence[int]) -> ReplayReport:
    """Put the dead rows among ``row_ids`` back to pending (attempts reset, due now); report
    the ids that do not exist and those that are not dead (left as they are)."""
    wanted = sorted(set(row_ids))
    async with pool.acquire() as conn, conn.transaction():
        replayed = await outbox_repo.replay(conn, wanted)
        done = set(replayed)
        others = [i for i in wanted if i not in done]
        existing = {i for i in others if await outbox_repo.get(conn, i) is not None}
    return ReplayReport(
        replayed=replayed,
        not_found=[i for i in others if i not in existing],
        not_dead=[i for i in others if i in existing],
    )


async def replay_one(pool: asyncpg.Pool, row_id: int) -> OutboxRow:
    """Replay one dead row: 404 when unknown, 409 when it is not dead."""
    report = await replay_rows(pool, [row_id])
    if report.not_found:
        raise NotFound(f"no outbox row {row_id}", outbox_id=row_id)
    if report.not_dead:
        row = await get_row(pool, row_id)
        raise Conflict(
            f"outbox row {row_id} is {row.status}; only dead rows are replayed",
            outbox_id=row_id,
            current_status=row.status,
        )
    return await get_row(pool, row_id)


async def replay_dead(pool: asyncpg.Pool) -> list[int]:
    """Every dead row back to pending; their ids."""
    async with pool.acquire() as conn:
        return await outbox_repo.replay_all_dead(conn)
