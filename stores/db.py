"""Connection pool creation and the small unit-of-work helper every use case uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg

from stores.embedded import embedded_dsn

Pool = asyncpg.Pool


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The configured DSN, or the embedded server's (started on demand)."""
    if database_url:
        return database_url
    return embedded_dsn(data_dir)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        command_timeout=30,
        **kwargs,
    )
    assert pool is not None
    return pool
