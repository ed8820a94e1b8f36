"""The aiohttp application factory: one cleanup context per resource, tests override any."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import asyncpg
from aiohttp import web

from service.api import (
    admin_keys,
    admin_outbox,
    availability,
    catalog,
    customers,
    docs,
    health,
    loyalty,
    pickup_qr,
    pickups,
    prices,
    promotions,
    staff,
)
from service.api.appkeys import (
    ENDPOINTS,
    KEY_CACHE,
    METRICS,
    OPENAPI,
    POOL,
    SETTINGS,
    SHUTTING_DOWN,
)
from service.api.auth import auth_middleware
from service.api.keycache import KeyCache
from service.api.observe import body_limit_middleware, install_observe, observe_middleware
from service.api.problems import problems_middleware
from service.api.stock_context import stock_ctx
from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings
from service.usecases.pickups.code_seal import CodeSealer, replay_secret
from service.usecases.pickups.create import PickupSettings
from stores.db import create_pool, resolve_database_url

ROUTERS = (
    health.router,
    docs.router,
    admin_keys.router,
    catalog.router,
    availability.router,
    pickups.router,
    pickup_qr.router,
    admin_outbox.router,
    prices.router,
    promotions.router,
    loyalty.router,
    staff.router,
    customers.router,
)


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    metrics: Metrics | None = None,
    erp: ErpPort | None = None,
) -> web.Application:
    """Build the app. A given ``pool`` is used as is (and not closed); else one is opened."""
    app = web.Application(
        middlewares=[
            observe_middleware,
            problems_middleware,
            body_limit_middleware,
            auth_middleware,
        ],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics or Metrics()
    install_observe(app)
    app[ENDPOINTS] = {}
    app[KEY_CACHE] = KeyCache(settings.auth_cache_s)
    app[SHUTTING_DOWN] = [False]
    app[OPENAPI] = []
    app[pickups.PICKUP_SETTINGS] = PickupSettings(
        max_staleness=timedelta(seconds=settings.pickup_max_staleness_s),
        prep_minutes=settings.pickup_prep_minutes,
        max_code_attempts=settings.pickup_code_attempts,
        optimistic_attempts=settings.pickup_optimistic_attempts,
        code_sealer=CodeSealer(
            replay_secret(settings.replay_key.get_secret_value(), settings.data_dir)
        ),
    )
    for router in ROUTERS:
        router.install(app)
    app.cleanup_ctx.append(_pool_ctx(settings, pool))
    app.cleanup_ctx.append(stock_ctx(erp))
    app.on_shutdown.append(_mark_shutting_down)
    return app


def _pool_ctx(
    settings: Settings, given: asyncpg.Pool | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[POOL] = given
            yield
            return
        dsn = resolve_database_url(settings.database_url, settings.data_dir)
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        app[POOL] = pool
        try:
            yield
        finally:
            await pool.close()

    return ctx


async def _mark_shutting_down(app: web.Application) -> None:
    app[SHUTTING_DOWN][0] = True
