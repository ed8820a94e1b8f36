"""What the worker runs: its jobs, and the use cases' configurations they are built from.

Each job is ``run_once(WorkerDeps) -> int`` (see ``service.workers.runner``); the configurations
(``sync_context``, ``relay_deps``, ...) are also used by the ``omnistock`` commands that run one
pass by hand and by the demo.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings
from service.usecases.loyalty import holds as loyalty_holds
from service.usecases.outbox import retention
from service.usecases.outbox.notifications import NotificationConfig
from service.usecases.outbox.prestashop_stock import StockPushConfig
from service.usecases.outbox.relay import RelayDeps, relay_once
from service.usecases.pickups.flow import expire_due
from service.usecases.stock import sync
from service.usecases.stock.hot_schedule import HotSchedule
from service.usecases.stock.sync import SyncContext
from service.workers.runner import Job

log = logging.getLogger("omnistock.sync")


@dataclass(frozen=True)
class WorkerDeps:
    """What every background job receives; each job builds its own context from it."""

    settings: Settings
    pool: asyncpg.Pool
    erp: ErpPort
    metrics: Metrics


def sync_context(
    settings: Settings, pool: asyncpg.Pool, erp: ErpPort, metrics: Metrics
) -> SyncContext:
    return SyncContext(
        pool=pool,
        erp=erp,
        metrics=metrics,
        page_size=settings.sync_page_size,
        concurrency=settings.sync_concurrency,
        hot=HotSchedule(
            window=timedelta(seconds=settings.sync_hot_window_s),
            now=timedelta(seconds=settings.sync_hot_now_s),
            period=timedelta(seconds=settings.sync_hot_interval_s),
            rest=timedelta(seconds=settings.sync_hot_rest_interval_s),
        ),
        hot_limit=settings.sync_hot_limit,
        web_store_id=settings.web_store_id,
        stock_push=stock_push_config(settings),
    )


def stock_push_config(settings: Settings) -> StockPushConfig | None:
    """The PrestaShop stock push; None when off."""
    if not (settings.prestashop_stock_push and settings.prestashop_url):
        return None
    return StockPushConfig(
        prestashop_url=settings.prestashop_url,
        prestashop_key=settings.prestashop_key.get_secret_value(),
        store_id=settings.web_store_id,
        batch=settings.prestashop_stock_batch,
        timeout_s=settings.notify_timeout_s,
    )


def notification_config(settings: Settings) -> NotificationConfig | None:
    """The webhook and PrestaShop settings; None when both are off."""
    config = NotificationConfig(
        webhook_url=settings.webhook_url,
        webhook_secret=settings.webhook_secret.get_secret_value(),
        prestashop_url=settings.prestashop_url,
        prestashop_key=settings.prestashop_key.get_secret_value(),
        prestashop_ready_state=settings.prestashop_ready_state,
        prestashop_collected_state=settings.prestashop_collected_state,
        timeout_s=settings.notify_timeout_s,
    )
    return config if config.enabled else None


def relay_deps(settings: Settings, pool: asyncpg.Pool, erp: ErpPort, metrics: Metrics) -> RelayDeps:
    return RelayDeps(
        pool=pool,
        erp=erp,
        metrics=metrics,
        web_store_id=settings.web_store_id,
        default_customer_id=settings.outbox_default_customer_id,
        create_customers=settings.erp_create_customers,
        batch_size=settings.outbox_batch_size,
        concurrency=settings.outbox_concurrency,
        max_attempts=settings.outbox_max_attempts,
        backoff_base_s=settings.outbox_backoff_base_s,
        backoff_max_s=settings.outbox_backoff_max_s,
        post_timeout_s=settings.outbox_post_timeout_s,
        notifications=notification_config(settings),
        stock_push=stock_push_config(settings),
    )


def retention_policy(settings: Settings) -> retention.RetentionPolicy:
    return retention.RetentionPolicy(
        outbox_done_s=settings.outbox_retention_s,
        idempotency_s=settings.idempotency_retention_s,
        batch_size=settings.retention_batch_size,
    )


SyncPass = Callable[[SyncContext], Awaitable[sync.PassReport]]


def _changed_rows(
    sync_pass: SyncPass, *, routine: bool = False
) -> Callable[[WorkerDeps], Awaitable[int]]:
    """``routine``: a pass that runs every second or two (the hot pass) is logged at INFO only
    when it changed rows; otherwise a pass that asked the ERP for nothing is logged at DEBUG.
    Every pass is counted in the metrics; the log shows what moved."""

    async def run_once(deps: WorkerDeps) -> int:
        ctx = sync_context(deps.settings, deps.pool, deps.erp, deps.metrics)
        report = await sync_pass(ctx)
        moved = report.rows_changed or (report.calls and not routine)
        level = logging.INFO if moved else logging.DEBUG
        log.log(
            level,
            report.summary(),
            extra={
                "job": report.job,
                "rows_seen": report.rows_seen,
                "rows_changed": report.rows_changed,
            },
        )
        return report.rows_changed

    return run_once


async def _relay(deps: WorkerDeps) -> int:
    return await relay_once(relay_deps(deps.settings, deps.pool, deps.erp, deps.metrics))


async def _sweep(deps: WorkerDeps) -> int:
    return await expire_due(deps.pool)


async def _loyalty_sweep(deps: WorkerDeps) -> int:
    return await loyalty_holds.expire_due(deps.pool)


async def _retention(deps: WorkerDeps) -> int:
    return await retention.run_once(deps.pool, retention_policy(deps.settings), deps.metrics)


def build_jobs(settings: Settings) -> list[Job]:
    """Every background job; each takes the ``WorkerDeps`` as its dependencies. The outbox relay
    and the sweepers are no singletons: rows are claimed with SKIP LOCKED, so every worker
    may help. The retention job is a singleton (one purge at a time) whose deletes skip locked
    rows besides, so it also coexists with ``omnistock outbox purge``."""
    return [
        Job("items", _changed_rows(sync.items_pass), settings.sync_items_interval_s),
        Job(
            "stock_hot",
            _changed_rows(sync.hot_stock_pass, routine=True),
            settings.sync_hot_interval_s,
            fixed_rate=True,  # its period is the freshness of the SKUs viewed now
        ),
        Job("stock_full", _changed_rows(sync.full_stock_pass), settings.sync_full_interval_s),
        Job("prices", _changed_rows(sync.prices_pass), settings.sync_prices_interval_s),
        Job("outbox_relay", _relay, settings.outbox_interval_s, singleton=False),
        Job("pickup_sweeper", _sweep, settings.sweeper_interval_s, singleton=False),
        Job(
            "loyalty_sweeper",
            _loyalty_sweep,
            settings.loyalty_sweeper_interval_s,
            singleton=False,
        ),
        Job("retention", _retention, settings.retention_interval_s),
    ]
