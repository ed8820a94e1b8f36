"""A store's pickups as the staff console reads them: filtered, searched, paged, counted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from service.domain.pickups import PickupState
from service.errors import NotFound
from service.usecases import cursor as cursors
from service.usecases.clock import utcnow
from service.usecases.pickups.views import PickupView, pickup_view
from stores import pickup_search
from stores import store_directory as directory_repo
from stores.pickup_search import PickupFilter


@dataclass(frozen=True, slots=True)
class StorePickups:
    items: list[PickupView]  # without lines and history
    next_cursor: str | None
    counts: dict[str, int]  # every state, with the same q / closed-today filter, any page


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Midnight of ``now``'s day in the store's time zone (UTC when the zone is unknown)."""
    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def _after(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) a page starts after."""
    created, pickup_id = cursors.decode_parts(cursor, 2)
    try:
        return datetime.fromisoformat(created), uuid.UUID(pickup_id)
    except (ValueError, TypeError):
        raise cursors.invalid() from None


async def search_store(
    pool: asyncpg.Pool,
    store_id: str,
    *,
    states: Sequence[str] | None,
    q: str | None,
    closed_today: bool,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> StorePickups:
    after = _after(cursor) if cursor else None
    async with pool.acquire() as conn:
        since = None
        store = await directory_repo.get(conn, store_id) if closed_today else None
        if closed_today:
            since = start_of_day(now or utcnow(), store.timezone if store else "UTC")
        f = PickupFilter(store_id, q, since)
        rows = await pickup_search.page(conn, f, states, after, limit + 1)
        found = await pickup_search.counts(conn, f)
        if not any(found.values()) and (store or await directory_repo.get(conn, store_id)) is None:
            raise NotFound(f"no store {store_id!r}", unknown_stores=[store_id])
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return StorePickups(
        items=[pickup_view(r) for r in rows[:limit]],
        next_cursor=(
            cursors.encode_parts([last.created_at.isoformat(), str(last.id)]) if last else None
        ),
        counts={s.value: found.get(s.value, 0) for s in PickupState},
    )
