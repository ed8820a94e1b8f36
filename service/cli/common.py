"""What the ``omnistock`` commands share: settings (with logging configured) and a pool."""

from __future__ import annotations

import asyncio

import asyncpg

from service.observability import configure_logging
from service.settings import Settings, load_settings
from stores.db import create_pool, resolve_database_url


def configured_settings() -> Settings:
    """Settings from the environment, with logging configured from them."""
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


async def open_pool(settings: Settings, *, max_size: int) -> asyncpg.Pool:
    """A pool on the configured database; resolved in a thread, as it may start the embedded
    PostgreSQL."""
    dsn = await asyncio.to_thread(resolve_database_url, settings.database_url, settings.data_dir)
    return await create_pool(dsn, min_size=1, max_size=max_size)
