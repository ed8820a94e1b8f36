"""Retention: delete done outbox rows and idempotency keys once they are old enough.

Nothing else ever deletes them, so without this both tables grow forever. Deletes go in bounded
batches (``batch_size`` rows per statement, each statement its own short transaction), so a purge
never holds many row locks or a long transaction, and rows locked elsewhere are skipped (``FOR
UPDATE SKIP LOCKED``): several workers, or a worker and ``omnistock outbox purge``, may purge at
once without waiting for each other or deleting a row twice. Pending and dead outbox rows are
never deleted, however old.

The cut-off is taken from PostgreSQL's clock once per table and run (``done_at`` and
``created_at`` are written by PostgreSQL too), so a skewed application clock cannot purge early.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.observability import Metrics
from stores import idempotency as idempotency_repo
from stores import outbox as outbox_repo

log = logging.getLogger("omnistock.retention")

OUTBOX = "outbox"
IDEMPOTENCY_KEYS = "idempotency_keys"

_CUTOFF = "SELECT now() - make_interval(secs => $1::float8)"
_COUNT = {
    OUTBOX: "SELECT count(*) FROM outbox WHERE status = 'done' AND done_at < $1",
    IDEMPOTENCY_KEYS: "SELECT count(*) FROM idempotency_keys WHERE created_at < $1",
}

DeleteBatch = Callable[[asyncpg.Connection, datetime, int], Awaitable[int]]
_DELETE: dict[str, DeleteBatch] = {
    OUTBOX: outbox_repo.purge_done,
    IDEMPOTENCY_KEYS: idempotency_repo.purge_batch,
}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How old rows must be to go (seconds; None: keep that table) and the batch size."""

    outbox_done_s: float | None
    idempotency_s: float | None
    batch_size: int = 5000

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        for age in (self.outbox_done_s, self.idempotency_s):
            if age is not None and age <= 0:
                raise ValueError("retention ages must be positive")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    table: str
    before: datetime
    rows: int  # deleted (or, in a dry run, that would be)
    batches: int  # DELETE statements run (0 in a dry run)


async def _cutoff(pool: asyncpg.Pool, age_s: float) -> datetime:
    before: datetime = await pool.fetchval(_CUTOFF, age_s)
    return before


async def _purge_table(
    pool: asyncpg.Pool, table: str, before: datetime, batch_size: int, metrics: Metrics
) -> PurgeResult:
    delete = _DELETE[table]
    total = batches = 0
    while True:
        # A connection per batch: it goes back to the pool between statements, and each
        # statement commits on its own (no enclosing transaction).
        async with pool.acquire() as conn:
            deleted = await delete(conn, before, batch_size)
        batches += 1
        total += deleted
        if deleted:
            metrics.retention_purged.labels(table).inc(deleted)
        if deleted < batch_size:  # nothing left (or the rest is locked: next run)
            return PurgeResult(table, before, total, batches)


async def purge(
    pool: asyncpg.Pool, policy: RetentionPolicy, metrics: Metrics, *, dry_run: bool = False
) -> list[PurgeResult]:
    """Purge each table the policy names, in bounded batches; one result per table. A dry run
    counts what would go and deletes nothing."""
    results: list[PurgeResult] = []
    for table, age_s in ((OUTBOX, policy.outbox_done_s), (IDEMPOTENCY_KEYS, policy.idempotency_s)):
        if age_s is None:
            continue
        before = await _cutoff(pool, age_s)
        if dry_run:
            count: int = await pool.fetchval(_COUNT[table], before)
            results.append(PurgeResult(table, before, count, 0))
            continue
        result = await _purge_table(pool, table, before, policy.batch_size, metrics)
        if result.rows:
            log.info(
                "purged %d row(s) of %s older than %s",
                result.rows,
                table,
                before.isoformat(),
                extra={"table": table, "rows": result.rows, "batches": result.batches},
            )
        results.append(result)
    return results


async def run_once(pool: asyncpg.Pool, policy: RetentionPolicy, metrics: Metrics) -> int:
    """The worker job: purge per the policy; rows deleted in all."""
    return sum(r.rows for r in await purge(pool, policy, metrics))
