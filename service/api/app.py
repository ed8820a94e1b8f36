"""The aiohttp application factory. Every resource the app owns is one cleanup context listed in
``create_app``, opened in that order and closed in the reverse; routers only read them through
the keys of ``service.api.appkeys``. Tests hand in their own pool or ERP client."""

from __future__ import annotations

import asyncio
import contextlib
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
from service.api.answers import AnswerCache
from service.api.appkeys import (
    ANSWERS,
    ENDPOINTS,
    ERP,
    KEY_CACHE,
    LOYALTY,
    METRICS,
    OPENAPI,
    PICKUP_SETTINGS,
    POOL,
    PRICES,
    READER,
    RECEIPTS,
    ROUTE_METRICS,
    RULES,
    SETTINGS,
    SHUTTING_DOWN,
)
from service.api.edge import edge, install_unmatched
from service.api.keycache import KeyCache
from service.api.stock_context import flush_wanted_forever, reader_settings
from service.api.stock_context import listen_for_changes as listen_for_stock_changes
from service.background import cancel_and_wait
from service.bootstrap import build_erp
from service.domain.pickup_codes import CodeHasher
from service.erp.lazy import LazyErp
from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings, parse_point_values
from service.usecases.customers.receipts import ReceiptSettings, ReceiptsReader
from service.usecases.loyalty.balances import LoyaltyReader
from service.usecases.loyalty.model import LoyaltySettings
from service.usecases.pickups.code_seal import (
    CodeSealer,
    parse_previous_keys,
    shared_replay_secret,
)
from service.usecases.pickups.create import PickupSettings
from service.usecases.promotions.prices import MIN_POOL_FOR_LISTENER, PriceCache
from service.usecases.promotions.prices import listen_for_changes as listen_for_price_changes
from service.usecases.promotions.rulebook import RuleCache
from service.usecases.stock.reader import StockReader, cache_weight
from stores.cache import make_cache
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
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    metrics: Metrics | None = None,
    erp: ErpPort | None = None,
) -> web.Application:
    """Build the app. A given ``pool`` or ``erp`` is used as is (and not closed); else the app
    opens its own."""
    # no middleware: every handler is wrapped by ``edge`` instead (see service.api.edge)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[METRICS] = metrics or Metrics()
    app[ROUTE_METRICS] = app[METRICS].http  # one app lookup per request instead of two
    app[ENDPOINTS] = {}
    app[KEY_CACHE] = KeyCache(settings.auth_cache_s)
    app[SHUTTING_DOWN] = [False]
    app[OPENAPI] = []
    app[PICKUP_SETTINGS] = pickup_settings(settings)
    for router in ROUTERS:
        router.install(app, edge)
    install_unmatched(app)  # last: what no route takes
    app.cleanup_ctx.extend(
        [
            _pool(settings, pool),  # POOL
            _erp(settings, erp),  # ERP: one client for stock, loyalty and receipts
            _stock_cache,  # READER, ANSWERS: stock snapshots (Redis or memory) and answers
            _erp_readers,  # LOYALTY, RECEIPTS: balances and documents, ERP reads coalesced
            _pricing_caches,  # RULES, PRICES: the rule book and the baskets' price rows
            _listeners,  # LISTEN: stock and pricing changes made by other processes
            _hot_sku_flusher,  # background: records the SKUs readers asked for
        ]
    )
    app.on_shutdown.append(_mark_shutting_down)
    return app


# --------------------------------------------------------------------------- settings
def pickup_settings(settings: Settings) -> PickupSettings:
    secret, shared = shared_replay_secret(settings.replay_key.get_secret_value(), settings.data_dir)
    previous = parse_previous_keys(settings.replay_key_previous.get_secret_value())
    return PickupSettings(
        max_staleness=timedelta(seconds=settings.pickup_max_staleness_s),
        prep_minutes=settings.pickup_prep_minutes,
        max_code_attempts=settings.pickup_code_attempts,
        optimistic_attempts=settings.pickup_optimistic_attempts,
        code_sealer=CodeSealer(secret, previous),
        # a secret of this process alone would make its codes unreadable elsewhere: PBKDF2 then
        code_hasher=CodeHasher(secret if shared else None, previous=previous, iterations=1000),
    )


def loyalty_settings(s: Settings) -> LoyaltySettings:
    return LoyaltySettings(
        programs=parse_point_values(s.loyalty_point_value),
        ttl_s=s.loyalty_ttl_s,
        deadline_s=s.loyalty_refresh_deadline_s,
        stale_after=timedelta(seconds=s.loyalty_stale_after_s),
        max_staleness=timedelta(seconds=s.loyalty_max_staleness_s),
        hold_ttl=timedelta(seconds=s.loyalty_hold_ttl_s),
        web_store_id=s.web_store_id,
    )


def receipt_settings(s: Settings) -> ReceiptSettings:
    return ReceiptSettings(ttl_s=s.receipts_ttl_s, deadline_s=s.receipts_refresh_deadline_s)


# --------------------------------------------------------------------------- resources
def _pool(settings: Settings, given: asyncpg.Pool | None) -> CleanupCtx:
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


def _erp(settings: Settings, given: ErpPort | None) -> CleanupCtx:
    """With stock read-through on, the client is built at start-up (an ERP that cannot be reached
    then stops the start); else on first use, by loyalty or receipts."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = LazyErp(lambda: build_erp(settings, app[METRICS]), given)
        if given is None and settings.read_through:
            await client.connect()
        app[ERP] = client
        try:
            yield
        finally:
            await client.aclose()

    return ctx


async def _stock_cache(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    cache = make_cache(settings.redis_url, settings.cache_max_rows, cache_weight)
    reader = StockReader(app[POOL], cache, app[ERP].client, app[METRICS], reader_settings(settings))
    app[READER] = reader
    app[ANSWERS] = AnswerCache(reader, settings.answer_cache_s)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await reader.flush_wanted()
        await reader.announcer.aclose()
        await cache.close()


async def _erp_readers(app: web.Application) -> AsyncIterator[None]:
    settings, erp = app[SETTINGS], app[ERP]
    app[LOYALTY] = LoyaltyReader(app[POOL], erp.get, loyalty_settings(settings))
    app[RECEIPTS] = ReceiptsReader(app[POOL], erp.get, receipt_settings(settings))
    try:
        yield
    finally:
        await app[LOYALTY].aclose()
        await app[RECEIPTS].aclose()


async def _pricing_caches(app: web.Application) -> AsyncIterator[None]:
    app[RULES] = RuleCache()
    app[PRICES] = PriceCache()
    yield


async def _listeners(app: web.Application) -> AsyncIterator[None]:
    """Each listener holds a connection: with a pool too small to spare a second one, basket
    prices are read from the database for every basket (and rules checked every few seconds)."""
    pool = app[POOL]
    tasks = [
        asyncio.create_task(listen_for_stock_changes(pool, app[READER]), name="stock-listener")
    ]
    if pool.get_max_size() >= MIN_POOL_FOR_LISTENER:
        tasks.append(
            asyncio.create_task(
                listen_for_price_changes(pool, app[PRICES], app[RULES]), name="pricing-listener"
            )
        )
    try:
        yield
    finally:
        await cancel_and_wait(tasks)


async def _hot_sku_flusher(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(flush_wanted_forever(app[READER]), name="hot-sku-flusher")
    try:
        yield
    finally:
        await cancel_and_wait([task])


async def _mark_shutting_down(app: web.Application) -> None:
    app[SHUTTING_DOWN][0] = True
