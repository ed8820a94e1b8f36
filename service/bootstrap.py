"""The composition root: builds the ERP client, the sync context and the worker's jobs from
settings. Nothing here runs at import time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg

from service.erp.cegid import CegidConfig, CegidErp
from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings
from service.usecases import sync
from service.usecases.sync import SyncContext
from service.workers.runner import Job

log = logging.getLogger("omnistock.sync")


def cegid_config(settings: Settings) -> CegidConfig:
    return CegidConfig(
        base_url=settings.erp_url,
        app=settings.erp_app,
        database_id=settings.erp_database_id,
        username=settings.erp_user,
        password=settings.erp_password.get_secret_value(),
        timeout_s=settings.erp_timeout_s,
        max_concurrency=settings.erp_max_concurrency,
        retries=settings.erp_retries,
        use_remote_wsdl=settings.erp_remote_wsdl,
    )


async def build_erp(settings: Settings, metrics: Metrics) -> ErpPort:
    """The Cegid adapter (WSDLs loaded off the event loop), reporting calls to ``metrics``."""
    return await CegidErp.create(cegid_config(settings), on_call=metrics.observe_erp_call)


def sync_context(
    settings: Settings, pool: asyncpg.Pool, erp: ErpPort, metrics: Metrics
) -> SyncContext:
    return SyncContext(
        pool=pool,
        erp=erp,
        metrics=metrics,
        page_size=settings.sync_page_size,
        concurrency=settings.sync_concurrency,
        hot_window=timedelta(seconds=settings.sync_hot_window_s),
        hot_limit=settings.sync_hot_limit,
    )


SyncPass = Callable[[SyncContext], Awaitable[sync.PassReport]]


def _changed_rows(sync_pass: SyncPass) -> Callable[[SyncContext], Awaitable[int]]:
    async def run_once(ctx: SyncContext) -> int:
        report = await sync_pass(ctx)
        log.info(
            report.summary(),
            extra={
                "job": report.job,
                "rows_seen": report.rows_seen,
                "rows_changed": report.rows_changed,
            },
        )
        return report.rows_changed

    return run_once


def build_jobs(settings: Settings) -> list[Job]:
    """Every background job; each takes the SyncContext as its dependencies."""
    return [
        Job("items", _changed_rows(sync.items_pass), settings.sync_items_interval_s),
        Job("stock_hot", _changed_rows(sync.hot_stock_pass), settings.sync_hot_interval_s),
        Job("stock_full", _changed_rows(sync.full_stock_pass), settings.sync_full_interval_s),
        Job("prices", _changed_rows(sync.prices_pass), settings.sync_prices_interval_s),
    ]
