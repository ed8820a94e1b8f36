"""Shared fixtures: a real PostgreSQL, one fresh database per test cloned from a migrated
template, the app on that database, and API keys of every role.

``DATABASE_URL`` (any database on the server; we create our own beside it) is used when set,
otherwise an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from service.api.app import create_app
from service.erp.port import ErpPort
from service.settings import Settings
from service.usecases.access.keys import create_key
from stores.db import create_pool
from stores.migrate import migrate


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


def _admin_dsn() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from stores.embedded import embedded_admin_dsn

    return embedded_admin_dsn(Path(tempfile.gettempdir()) / f"omnistock-test-pg-{os.getuid()}")


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    return _admin_dsn()


async def _create_template(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_database(admin, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def _drop(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_db(pg_admin_dsn: str) -> Iterator[str]:
    name = f"omnistock_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_template(pg_admin_dsn, name))
    yield name
    asyncio.run(_drop(pg_admin_dsn, name))


async def new_database(admin: str, template: str | None) -> str:
    name = f"omnistock_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin)
    try:
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return name


@pytest.fixture
async def empty_database_url(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A database with no migrations applied."""
    name = await new_database(pg_admin_dsn, None)
    yield with_database(pg_admin_dsn, name)
    await _drop(pg_admin_dsn, name)


@pytest.fixture
async def database_url(pg_admin_dsn: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database for this test alone."""
    name = await new_database(pg_admin_dsn, template_db)
    yield with_database(pg_admin_dsn, name)
    await _drop(pg_admin_dsn, name)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=10)
    yield p
    await p.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # no Redis unless a test asks for it: a shared cache would leak between test databases
    return Settings(
        database_url=database_url,
        redis_url=None,
        auth_cache_s=0,
        log_json=False,
        read_through=False,
    )


AppFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(
    pool: asyncpg.Pool, settings: Settings, aiohttp_client: Callable[..., Awaitable[TestClient]]
) -> AppFactory:
    """Start the real app on the test database; ``customise(app)`` may add test routes.

    ``pool`` comes first so that it is set up before, and closed after, the apps using it.
    """

    async def make(
        customise: Callable[[web.Application], None] | None = None,
        *,
        erp: ErpPort | None = None,
        **overrides: object,
    ) -> TestClient:
        s = settings.model_copy(update=overrides) if overrides else settings
        app = create_app(s, pool=pool, erp=erp)
        if customise:
            customise(app)
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(make_client: AppFactory) -> TestClient:
    return await make_client()


KeyFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def make_key(pool: asyncpg.Pool) -> KeyFactory:
    async def make(role: str, stores: Sequence[str] = (), label: str = "test") -> str:
        key, _ = await create_key(pool, role, stores, label)
        return key

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
