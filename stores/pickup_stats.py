"""Read-only counts of pickups for the metrics gauges (read at scrape time)."""

from __future__ import annotations

import asyncpg

_BY_STATE = "SELECT state, count(*) AS n FROM pickups GROUP BY state"


async def count_by_state(conn: asyncpg.Connection) -> dict[str, int]:
    """state -> pickups in it (states without pickups are absent)."""
    return {r["state"]: r["n"] for r in await conn.fetch(_BY_STATE)}
