"""What the ops endpoints ask PostgreSQL: is it ready (reachable, schema current), and the
gauges whose truth is in the database (shared by every replica), read at scrape time.

Both answer within about two seconds whatever the database does: a readiness probe or a scrape
must not hang, nor fail, because PostgreSQL is away.
"""

from __future__ import annotations

import asyncio

import asyncpg

from service.domain.pickups import PickupState
from service.observability import Metrics
from service.usecases.clock import utcnow
from service.usecases.outbox.relay import refresh_outbox_gauges
from stores import pickup_stats, sync_runs
from stores.migrate import pending

TIMEOUT_S = 2.0


async def database_state(pool: asyncpg.Pool) -> tuple[str, str]:
    """(database, migrations): ``("ok", "current")`` when ready, else what is wrong."""
    try:
        async with asyncio.timeout(TIMEOUT_S):
            async with pool.acquire() as conn:
                todo = await pending(conn)
    except Exception as exc:  # any failure to reach PostgreSQL means "not ready"
        return f"unreachable: {type(exc).__name__}", "unknown"
    return "ok", "current" if not todo else f"{len(todo)} pending"


async def refresh_database_gauges(pool: asyncpg.Pool, metrics: Metrics) -> None:
    """Sync lag per job, the outbox gauges and the pickups per state; left as they were when
    the database does not answer."""
    try:
        async with asyncio.timeout(TIMEOUT_S), pool.acquire() as conn:
            runs = await sync_runs.last_runs(conn)
            await refresh_outbox_gauges(conn, metrics)
    except Exception:  # a scrape must not fail because the database is away
        return
    now = utcnow()
    for run in runs:
        metrics.sync_lag.labels(run["job"]).set((now - run["finished_at"]).total_seconds())
    try:  # apart: a count slowed by a large table must not hold back the sync-lag gauges
        async with asyncio.timeout(TIMEOUT_S), pool.acquire() as conn:
            pickups = await pickup_stats.count_by_state(conn)
    except Exception:
        return
    for state in PickupState:  # every state, 0 when none is in it
        metrics.pickups.labels(state.value).set(pickups.get(state.value, 0))
