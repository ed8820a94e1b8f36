"""Migrations: in order, idempotent, safe with concurrent runners, atomic on failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from stores.migrate import MigrationError, default_migrations_dir, load_migrations, migrate, pending


async def test_fresh_database_gets_every_migration_once(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await migrate(conn)
        assert [m.version for m in applied] == [
            m.version for m in load_migrations(default_migrations_dir())
        ]
        assert await migrate(conn) == []  # idempotent re-run
        assert await pending(conn) == []
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in applied]
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_migration_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(5)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        total = sum(len(r) for r in results)
        assert total == len(load_migrations(default_migrations_dir()))
        assert sum(1 for r in results if r) == 1  # one runner did it all, the others waited
    finally:
        for c in conns:
            await c.close()


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


async def test_failing_migration_rolls_back_and_says_which(
    empty_database_url: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path / "sql",
        {
            "0001_ok.sql": "CREATE TABLE a (id int);",
            "0002_bad.sql": "CREATE TABLE b (id int);\nINSERT INTO a VALUES (1);\nSELECT 1/0;",
        },
    )
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(MigrationError, match=r"0002_bad failed and was rolled back.*division"):
            await migrate(conn, folder)
        assert await conn.fetchval("SELECT to_regclass('b')") is None
        assert await conn.fetchval("SELECT count(*) FROM a") == 0
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in versions] == ["0001"]
        # the lock was released: a fixed file applies on the next run
        (folder / "0002_bad.sql").write_text("CREATE TABLE b (id int);")
        assert [m.version for m in await migrate(conn, folder)] == ["0002"]
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    folder = _write(tmp_path / "sql", {"0001_a.sql": "CREATE TABLE a (id int);"})
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn, folder)
        (folder / "0001_a.sql").write_text("CREATE TABLE a (id bigint);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, folder)
    finally:
        await conn.close()


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path / "sql", {"1_a.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(folder)
