"""The worker process: builds its dependencies once and runs the configured jobs."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from service.bootstrap import WorkerDeps, build_erp, build_jobs
from service.observability import Metrics
from service.settings import Settings
from service.workers.runner import run_jobs
from stores.db import create_pool, resolve_database_url

log = logging.getLogger("omnistock.worker")


async def run_until_signalled(main: asyncio.Future[None] | asyncio.Task[None]) -> None:
    """Cancel ``main`` on SIGTERM/SIGINT and wait for it to unwind."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    try:
        await main
    except asyncio.CancelledError:
        log.info("stopped by signal")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def run_worker(settings: Settings, only: Sequence[str] | None = None) -> None:
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    pool = await create_pool(dsn, min_size=1, max_size=settings.db_pool_max)
    metrics = Metrics()
    erp = await build_erp(settings, metrics)
    try:
        deps = WorkerDeps(settings, pool, erp, metrics)
        jobs = [j for j in build_jobs(settings) if not only or j.name in only]
        log.info("worker started", extra={"jobs": [j.name for j in jobs]})
        await run_until_signalled(asyncio.create_task(run_jobs(pool, jobs, deps)))
    finally:
        await erp.aclose()
        await pool.close()
