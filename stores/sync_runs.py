"""Repository of sync runs: the last success of each job, for lag metrics and status."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_RECORD = """
INSERT INTO sync_runs (job, started_at, finished_at, rows_seen, rows_changed, detail)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
ON CONFLICT (job) DO UPDATE SET started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, rows_seen = EXCLUDED.rows_seen,
    rows_changed = EXCLUDED.rows_changed, detail = EXCLUDED.detail
"""
_LAST = "SELECT job, started_at, finished_at, rows_seen, rows_changed FROM sync_runs ORDER BY job"


async def record(
    conn: asyncpg.Connection,
    job: str,
    started_at: datetime,
    finished_at: datetime,
    rows_seen: int,
    rows_changed: int,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        _RECORD,
        job,
        started_at,
        finished_at,
        rows_seen,
        rows_changed,
        json.dumps(detail or {}),
    )


async def last_runs(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(_LAST))
