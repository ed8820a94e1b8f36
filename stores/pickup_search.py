"""Reads of a store's pickups for the staff console: search, filters, counts per state.

Explicit connection, never commits. ``q`` matches a pickup id (from 6 characters, as a prefix),
a PrestaShop order reference or id (exactly), or part of the customer's e-mail or name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from stores.pickup_records import PickupRecord
from stores.pickups import record_of

# $1 store, $2 q (trimmed, lower case) or NULL, $3 q escaped for LIKE, $4 closed since or NULL
_MATCH = r"""
store_id = $1
AND ($2::text IS NULL
     OR (length($2) >= 6 AND id::text LIKE $3 || '%')
     OR lower(coalesce(ps_order_reference, '')) = $2
     OR ps_order_id::text = $2
     OR lower(customer->>'email') LIKE '%' || $3 || '%'
     OR lower(concat_ws(' ', customer->>'first_name', customer->>'last_name'))
        LIKE '%' || $3 || '%')
AND (state IN ('confirmed', 'ready') OR $4::timestamptz IS NULL OR updated_at >= $4)
"""
_COUNTS = f"SELECT state, count(*)::int AS n FROM pickups WHERE {_MATCH} GROUP BY state"
_PAGE = f"""
SELECT * FROM pickups WHERE {_MATCH}
  AND ($5::text[] IS NULL OR state = ANY($5::text[]))
  AND ($6::timestamptz IS NULL OR (created_at, id) > ($6, $7::uuid))
ORDER BY created_at, id LIMIT $8
"""


@dataclass(frozen=True, slots=True)
class PickupFilter:
    store_id: str
    q: str | None = None
    closed_since: datetime | None = None  # terminal pickups only when closed since then


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _args(f: PickupFilter) -> tuple[str, str | None, str, datetime | None]:
    q = f.q.strip().lower() if f.q and f.q.strip() else None
    return f.store_id, q, _like(q or ""), f.closed_since


async def counts(conn: asyncpg.Connection, f: PickupFilter) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await conn.fetch(_COUNTS, *_args(f))}


async def page(
    conn: asyncpg.Connection,
    f: PickupFilter,
    states: Sequence[str] | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[PickupRecord]:
    """A page of pickups (without their lines and history)."""
    created, pid = after if after else (None, None)
    chosen = list(states) if states else None
    return [record_of(r) for r in await conn.fetch(_PAGE, *_args(f), chosen, created, pid, limit)]
