"""``omnistock demo``: everything on one machine with one command.

Embedded PostgreSQL (unless DATABASE_URL is set), migrations, the API on 127.0.0.1:8080, one fresh
API key per role (earlier demo keys are revoked), and the URLs to try.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from service.api.app import create_app
from service.settings import Settings
from service.usecases.keys import replace_labelled_key
from service.workers.main import run_until_signalled
from stores.db import create_pool, resolve_database_url
from stores.migrate import migrate

log = logging.getLogger("omnistock.demo")
DEMO_STAFF_STORES = ("S001",)


async def _serve_forever() -> None:
    await asyncio.Event().wait()


async def run_demo(settings: Settings, *, host: str, port: int) -> None:
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    pool = await create_pool(dsn, min_size=1, max_size=settings.db_pool_max)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        keys = {
            role: await replace_labelled_key(
                pool, role, f"demo-{role}", DEMO_STAFF_STORES if role == "staff" else ()
            )
            for role in ("storefront", "staff", "admin")
        }
        runner = web.AppRunner(
            create_app(settings, pool=pool),
            access_log=None,
            shutdown_timeout=settings.shutdown_timeout_s,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        try:
            _print_banner(host, port, keys)
            await run_until_signalled(asyncio.create_task(_serve_forever()))
        finally:
            await runner.cleanup()
    finally:
        await pool.close()


def _print_banner(host: str, port: int, keys: dict[str, str]) -> None:
    base = f"http://{host}:{port}"
    lines = [
        "",
        "omnistock demo is running (Ctrl-C to stop)",
        f"  API            {base}/v1",
        f"  docs           {base}/docs",
        f"  OpenAPI        {base}/openapi.json",
        f"  readiness      {base}/readyz",
        f"  metrics        {base}/metrics",
        "",
        "API keys (new at each start; earlier demo keys are revoked):",
        *(f"  {role:<11} {key}" for role, key in keys.items()),
        f"  (the staff key may act on store {', '.join(DEMO_STAFF_STORES)})",
        "",
        "Try:",
        f"  curl -s {base}/readyz",
        f"  curl -s -H 'Authorization: Bearer {keys['admin']}' {base}/v1/admin/keys",
        "",
    ]
    print("\n".join(lines), flush=True)
