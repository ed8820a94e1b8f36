"""Background jobs: each is ``run_once(deps) -> int`` plus this loop around it.

A singleton job takes a PostgreSQL advisory lock for each run, so with several worker processes
exactly one runs it at a time; the others skip that round. A job waits its interval (+-10%, so
replicas drift apart) after each run ends, or, ``fixed_rate``, from one start to the next (a
run longer than the interval is followed by the next at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

log = logging.getLogger("omnistock.worker")

RunOnce = Callable[[Any], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    run_once: RunOnce
    interval_s: float
    singleton: bool = True
    fixed_rate: bool = False

    @property
    def lock_key(self) -> int:
        digest = hashlib.sha256(f"omnistock.job.{self.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


async def run_singleton(pool: asyncpg.Pool, job: Job, deps: Any) -> int | None:
    """Run the job once if no other process holds its lock; None when skipped."""
    async with pool.acquire() as conn:
        try:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", job.lock_key)
        except BaseException:
            conn.terminate()  # the server may have granted the lock before the call failed
            raise
        if not got:
            return None
        try:
            return await job.run_once(deps)
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock($1)", job.lock_key)
            except BaseException:
                conn.terminate()  # never hand a connection that may hold the lock to the pool
                raise


async def run_job_forever(pool: asyncpg.Pool, job: Job, deps: Any) -> None:
    failures = 0
    while True:
        started = time.monotonic()
        try:
            if job.singleton:
                done = await run_singleton(pool, job, deps)
            else:
                done = await job.run_once(deps)
            failures = 0
            if done:
                log.info(
                    "job ran",
                    extra={
                        "job": job.name,
                        "count": done,
                        "seconds": round(time.monotonic() - started, 3),
                    },
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("job failed", extra={"job": job.name, "failures": failures})
        pause = job.interval_s if failures == 0 else min(60.0, job.interval_s * 2**failures)
        pause *= random.uniform(0.9, 1.1)
        if job.fixed_rate and failures == 0:
            pause -= time.monotonic() - started
        await asyncio.sleep(max(0.0, pause))


async def run_jobs(pool: asyncpg.Pool, jobs: Sequence[Job], deps: Any) -> None:
    """Run every job until cancelled."""
    if not jobs:
        log.warning("no background jobs are configured")
    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(run_job_forever(pool, job, deps), name=f"job:{job.name}")
        if not jobs:
            group.create_task(asyncio.Event().wait())
