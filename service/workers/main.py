"""The worker process: builds its dependencies once and runs the configured jobs."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.bootstrap import build_erp
from service.observability import Metrics
from service.settings import Settings
from service.workers.jobs import WorkerDeps, build_jobs
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


async def _metrics_site(settings: Settings, metrics: Metrics) -> web.AppRunner | None:
    """/metrics (this worker's ERP calls, sync passes, outbox posts) and /healthz."""
    if not settings.worker_metrics_port:
        return None

    async def scrape(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(metrics.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.worker_metrics_port).start()
    return runner


async def run_worker(settings: Settings, only: Sequence[str] | None = None) -> None:
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    pool = await create_pool(dsn, min_size=1, max_size=settings.db_pool_max)
    metrics = Metrics()
    erp = await build_erp(settings, metrics)
    site = await _metrics_site(settings, metrics)
    try:
        deps = WorkerDeps(settings, pool, erp, metrics)
        jobs = [j for j in build_jobs(settings) if not only or j.name in only]
        log.info("worker started", extra={"jobs": [j.name for j in jobs]})
        await run_until_signalled(asyncio.create_task(run_jobs(pool, jobs, deps)))
    finally:
        if site is not None:
            await site.cleanup()
        await erp.aclose()
        await pool.close()
