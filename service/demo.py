"""``omnistock demo``: everything on one machine with one command.

Embedded PostgreSQL (unless DATABASE_URL is set), migrations, the Cegid simulator with seeded demo
data (the shops and the e-commerce store ``OMNISTOCK_WEB_STORE_ID``), the store directory imported
from it, a first sync (items, stock, prices), the background sync jobs, the API on
127.0.0.1:8080, one fresh API key per role (earlier demo keys are revoked), and commands to try.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web

from service.api.app import create_app
from service.bootstrap import build_erp
from service.erp.simulator import (
    SimulatorState,
    create_simulator_app,
    generate,
    store_directory,
)
from service.observability import Metrics
from service.settings import Settings
from service.usecases.access.keys import replace_labelled_key
from service.usecases.catalog.files import from_simulator
from service.usecases.catalog.store_directory import upsert_trusted
from service.usecases.stock import sync
from service.workers.jobs import WorkerDeps, build_jobs, sync_context
from service.workers.main import run_until_signalled
from service.workers.runner import run_jobs
from stores.db import create_pool, resolve_database_url
from stores.migrate import migrate

log = logging.getLogger("omnistock.demo")
DEMO_STAFF_STORES = ("S001",)


def directory_entry(store: dict[str, Any]) -> dict[str, Any]:
    """A simulator store (Cegid has no store service) as a row of our store directory (the
    same conversion as ``omnistock stores import`` of ``/_sim/stores``), with the demo's
    capacity. The e-commerce store is in the directory for its stock and its price list, with
    no services and no position: it is never near a shopper, and a pickup there is refused."""
    entry = from_simulator(store)
    if store.get("ecommerce"):
        return entry
    return {**entry, "pickup_capacity_per_day": 40, "hold_hours": 48}


def demo_tenant(settings: Settings, *, stores: int, products: int) -> SimulatorState:
    """The demo's Cegid tenant: ``stores`` shops, ``products`` SKUs and the e-commerce store
    (``OMNISTOCK_WEB_STORE_ID``) with its web warehouse stock and price list."""
    return generate(
        seed=42,
        stores=stores,
        products=products,
        web_store_id=settings.web_store_id,
        web_store=True,
    )


async def import_directory(pool: asyncpg.Pool, state: SimulatorState) -> None:
    """The tenant's stores (the web store included) into our store directory, in one go."""
    await upsert_trusted(pool, (directory_entry(store) for store in store_directory(state)))


async def _start_site(
    app: web.Application, host: str, port: int, shutdown_s: float
) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_s)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def _first_sync(ctx: sync.SyncContext) -> list[str]:
    return [
        (await step(ctx)).summary()
        for step in (sync.items_pass, sync.full_stock_pass, sync.prices_pass)
    ]


async def _keys(pool: asyncpg.Pool) -> dict[str, str]:
    return {
        role: await replace_labelled_key(
            pool, role, f"demo-{role}", DEMO_STAFF_STORES if role == "staff" else ()
        )
        for role in ("storefront", "staff", "admin")
    }


async def run_demo(
    settings: Settings, *, host: str, port: int, stores: int = 12, products: int = 2000
) -> None:
    erp_url = urlsplit(settings.erp_url)
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    pool = await create_pool(dsn, min_size=1, max_size=settings.db_pool_max)
    runners: list[web.AppRunner] = []
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        state = demo_tenant(settings, stores=stores, products=products)
        users = {settings.erp_user: settings.erp_password.get_secret_value()}
        sim = create_simulator_app(
            state, control=True, database_id=settings.erp_database_id, users=users
        )
        runners.append(
            await _start_site(sim, erp_url.hostname or "127.0.0.1", erp_url.port or 80, 1.0)
        )
        await import_directory(pool, state)
        metrics = Metrics()
        erp = await build_erp(settings, metrics)
        try:
            ctx = sync_context(settings, pool, erp, metrics)
            summaries = await _first_sync(ctx)
            keys = await _keys(pool)
            api = create_app(settings, pool=pool, metrics=metrics)
            runners.append(await _start_site(api, host, port, settings.shutdown_timeout_s))
            sample = next(
                i.sku for n, i in enumerate(state.items) if state.available("S001", n) > 3
            )
            shopper = min(d.customer_id for d in state.receipts.values())
            receipt = min(
                f"{d.doc_type}:{d.stump}:{d.number}"
                for d in state.receipts.values()
                if d.customer_id == shopper
            )
            _print_banner(
                host,
                port,
                settings.erp_url,
                keys,
                summaries,
                sample,
                settings.web_store_id,
                shopper,
                receipt,
            )
            deps = WorkerDeps(settings, pool, erp, metrics)
            jobs = asyncio.create_task(run_jobs(pool, build_jobs(settings), deps))
            await run_until_signalled(jobs)
        finally:
            await erp.aclose()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        await pool.close()


def _print_banner(
    host: str,
    port: int,
    erp_url: str,
    keys: dict[str, str],
    summaries: list[str],
    sku: str,
    web_store: str,
    customer: str,
    receipt: str,
) -> None:
    base = f"http://{host}:{port}"
    sf, staff = f"-H 'Authorization: Bearer {keys['storefront']}'", keys["staff"]
    pickup = (
        '{"kind": "reservation", "store_id": "S001", "customer": {"email": "ana@example.com", '
        '"first_name": "Ana", "last_name": "Lopez", "ps_customer_id": 1001}, '
        f'"lines": [{{"sku": "{sku}", "quantity": 1}}]}}'
    )
    basket = f'{{"channel": "web", "lines": [{{"sku": "{sku}", "quantity": 2}}]}}'
    lines = [
        "",
        "omnistock demo is running (Ctrl-C to stop)",
        f"  staff console  {base}/staff/  (sign in with the staff key below)",
        f"  API            {base}/v1",
        f"  docs           {base}/docs",
        f"  OpenAPI        {base}/openapi.json",
        f"  readiness      {base}/readyz",
        f"  metrics        {base}/metrics",
        f"  Cegid (sim.)   {erp_url}/Y2/ItemInventoryWcfService.svc?wsdl  (control: /_sim/)",
        "",
        "First sync:",
        *(f"  {s}" for s in summaries),
        "",
        "API keys (new at each start; earlier demo keys are revoked):",
        *(f"  {role:<11} {key}" for role, key in keys.items()),
        f"  (the staff key may act on store {', '.join(DEMO_STAFF_STORES)})",
        "",
        "Try:",
        f"  curl -s {base}/readyz",
        f"  curl -s -H 'Authorization: Bearer {keys['admin']}' {base}/v1/admin/keys",
        f"  curl -s {sf} '{base}/v1/stores?near=48.8566,2.3522&radius_km=100'",
        f"  curl -s {sf} '{base}/v1/availability?sku={sku}&near=48.8566,2.3522&radius_km=500'",
        f"  # the storefront's path: web prices ({web_store}'s price list) and a web basket",
        f"  curl -s {sf} '{base}/v1/prices?sku={sku}&store={web_store}'",
        f"  curl -s {sf} -H 'Content-Type: application/json' \\",
        f"       -d '{basket}' {base}/v1/baskets/price",
        f"  curl -s {sf} -H 'Idempotency-Key: demo-1' -H 'Content-Type: application/json' \\",
        f"       -d '{pickup}' {base}/v1/pickups",
        f"  curl -s -H 'Authorization: Bearer {staff}' {base}/v1/stores/S001/pickups",
        "  # the relay links or creates the shopper's Cegid customer (ps:1001 once posted):",
        f"  curl -s {sf} {base}/v1/customers/ps:1001",
        "  # a demo customer's in-store receipts, one with its lines, printable:",
        f"  curl -s {sf} '{base}/v1/customers/{customer}/receipts?limit=5'",
        f"  curl -s {sf} {base}/v1/customers/{customer}/receipts/{receipt}",
        f"  {base}/v1/customers/{customer}/receipts/{receipt}.html (with the key)",
        "  # an in-store sale in the ERP, then the hot sync (5 s) shows it:",
        f'  curl -s -X POST -d \'{{"store_id": "S001", "sku": "{sku}", "delta": -1}}\' '
        f"{erp_url}/_sim/stock",
        f"  curl -s {base}/metrics | grep omnistock_sync",
        "",
    ]
    print("\n".join(lines), flush=True)
