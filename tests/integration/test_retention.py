"""Retention: done outbox rows and idempotency keys are purged in bounded batches, never pending
or dead rows, without waiting on locked rows, safely from several workers at once; the worker
job, its metrics and ``omnistock outbox purge``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any, cast

import asyncpg
import pytest

from service.cli.outbox import add_commands, parse_duration, run_outbox
from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings
from service.usecases.outbox import retention
from service.usecases.outbox.retention import IDEMPOTENCY_KEYS, OUTBOX, RetentionPolicy
from service.workers.jobs import WorkerDeps, build_jobs, retention_policy
from service.workers.runner import run_singleton

DAY = 86400.0
WEEK = 7 * DAY

_ROW = """
INSERT INTO outbox (aggregate, aggregate_id, kind, payload, status, attempts, created_at, done_at)
VALUES ('pickup', $1, 'pickup.created', '{}'::jsonb, $2, 1,
        now() - make_interval(secs => $3::float8),
        now() - make_interval(secs => $4::float8))
RETURNING id
"""
_KEY = """
INSERT INTO idempotency_keys (principal, key, operation, request_hash, status, response,
                              created_at)
VALUES ('key-1', $1, 'create_pickup', '\\x00', 201, '{}'::jsonb,
        now() - make_interval(secs => $2::float8))
"""


async def add_row(
    pool: asyncpg.Pool | asyncpg.Connection,
    status: str,
    *,
    age_s: float,
    done_age_s: float | None = None,
    aggregate_id: str = "p",
) -> int:
    """An outbox row created ``age_s`` ago, done ``done_age_s`` ago (None: done_at NULL)."""
    row_id: int = await pool.fetchval(_ROW, aggregate_id, status, age_s, done_age_s)
    return row_id


async def add_key(pool: asyncpg.Pool | asyncpg.Connection, key: str, *, age_s: float) -> None:
    await pool.execute(_KEY, key, age_s)


async def ids(pool: asyncpg.Pool) -> set[int]:
    return {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}


async def keys(pool: asyncpg.Pool) -> set[str]:
    return {r["key"] for r in await pool.fetch("SELECT key FROM idempotency_keys")}


def purged(metrics: Metrics, table: str) -> float:
    value = metrics.registry.get_sample_value(
        "omnistock_retention_purged_rows_total", {"table": table}
    )
    assert value is not None
    return value


# --------------------------------------------------------------------------- what goes
async def test_only_old_done_rows_and_old_keys_go(pool: asyncpg.Pool) -> None:
    old_done = {await add_row(pool, "done", age_s=10 * DAY, done_age_s=8 * DAY) for _ in range(3)}
    # Created long ago but done recently (retried for days): kept, retention counts from done_at.
    late_done = await add_row(pool, "done", age_s=30 * DAY, done_age_s=DAY)
    recent_done = await add_row(pool, "done", age_s=3600, done_age_s=3600)
    old_pending = await add_row(pool, "pending", age_s=60 * DAY)
    old_dead = await add_row(pool, "dead", age_s=60 * DAY)
    # A dead row that was done once (cannot happen today): the status decides, not done_at.
    dead_with_done_at = await add_row(pool, "dead", age_s=60 * DAY, done_age_s=50 * DAY)
    await add_key(pool, "old-1", age_s=8 * DAY)
    await add_key(pool, "old-2", age_s=30 * DAY)
    await add_key(pool, "recent", age_s=6 * DAY)

    metrics = Metrics()
    assert purged(metrics, OUTBOX) == 0  # exported before the first purge
    results = await retention.purge(pool, RetentionPolicy(WEEK, WEEK, batch_size=100), metrics)

    assert [(r.table, r.rows) for r in results] == [(OUTBOX, 3), (IDEMPOTENCY_KEYS, 2)]
    kept = await ids(pool)
    assert kept.isdisjoint(old_done)
    assert kept == {late_done, recent_done, old_pending, old_dead, dead_with_done_at}
    assert await keys(pool) == {"recent"}
    assert purged(metrics, OUTBOX) == 3
    assert purged(metrics, IDEMPOTENCY_KEYS) == 2

    # Nothing left to do: a second run deletes nothing and says so.
    again = await retention.purge(pool, RetentionPolicy(WEEK, WEEK), metrics)
    assert [r.rows for r in again] == [0, 0]
    assert purged(metrics, OUTBOX) == 3


async def test_a_table_left_out_of_the_policy_is_kept(pool: asyncpg.Pool) -> None:
    await add_row(pool, "done", age_s=10 * DAY, done_age_s=10 * DAY)
    await add_key(pool, "old", age_s=10 * DAY)
    results = await retention.purge(pool, RetentionPolicy(None, WEEK), Metrics())
    assert [(r.table, r.rows) for r in results] == [(IDEMPOTENCY_KEYS, 1)]
    assert len(await ids(pool)) == 1
    assert await keys(pool) == set()


async def test_deletes_in_bounded_batches(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(12):
        await add_row(pool, "done", age_s=10 * DAY, done_age_s=10 * DAY)
    for n in range(10):
        await add_key(pool, f"k{n}", age_s=10 * DAY)
    statements: list[tuple[str, int, int]] = []

    def spy(table: str) -> retention.DeleteBatch:
        real = retention._DELETE[table]

        async def counted(conn: asyncpg.Connection, before: Any, limit: int) -> int:
            assert not conn.is_in_transaction()  # each batch commits on its own
            deleted = await real(conn, before, limit)
            statements.append((table, limit, deleted))
            return deleted

        return counted

    monkeypatch.setitem(retention._DELETE, OUTBOX, spy(OUTBOX))
    monkeypatch.setitem(retention._DELETE, IDEMPOTENCY_KEYS, spy(IDEMPOTENCY_KEYS))
    results = await retention.purge(pool, RetentionPolicy(WEEK, WEEK, batch_size=5), Metrics())

    assert [(r.rows, r.batches) for r in results] == [(12, 3), (10, 3)]
    assert statements == [
        (OUTBOX, 5, 5),
        (OUTBOX, 5, 5),
        (OUTBOX, 5, 2),
        (IDEMPOTENCY_KEYS, 5, 5),
        (IDEMPOTENCY_KEYS, 5, 5),
        (IDEMPOTENCY_KEYS, 5, 0),
    ]
    assert await ids(pool) == set()


async def test_the_purge_uses_the_done_index(pool: asyncpg.Pool) -> None:
    """sql/0009: the batch finds its rows through outbox_done_at, not a scan of the table."""
    async with pool.acquire() as conn:
        for _ in range(50):
            await add_row(conn, "pending", age_s=10)
        await conn.execute("ANALYZE outbox")
        await conn.execute("SET enable_seqscan = off")  # a tiny table: force the planner's hand
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) SELECT id FROM outbox WHERE status = 'done' "
            "AND done_at < now() ORDER BY done_at LIMIT 5000 FOR UPDATE SKIP LOCKED"
        )
    assert "outbox_done_at" in json.dumps(plan)


# --------------------------------------------------------------------------- concurrency
async def test_locked_rows_are_skipped_not_waited_for(pool: asyncpg.Pool) -> None:
    locked_row = await add_row(pool, "done", age_s=10 * DAY, done_age_s=10 * DAY)
    free_row = await add_row(pool, "done", age_s=10 * DAY, done_age_s=10 * DAY)
    await add_key(pool, "locked", age_s=10 * DAY)
    await add_key(pool, "free", age_s=10 * DAY)
    async with pool.acquire() as other, other.transaction():
        await other.execute("SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE", locked_row)
        await other.execute("SELECT 1 FROM idempotency_keys WHERE key = 'locked' FOR UPDATE")
        # A request in flight: its key is claimed but not committed yet.
        await add_key(other, "in-flight", age_s=10 * DAY)
        results = await asyncio.wait_for(
            retention.purge(pool, RetentionPolicy(WEEK, WEEK), Metrics()), timeout=10
        )
        assert [r.rows for r in results] == [1, 1]
        assert free_row not in await ids(pool)
    assert await ids(pool) == {locked_row}
    assert await keys(pool) == {"locked", "in-flight"}
    # Once released, the next run takes them.
    results = await retention.purge(pool, RetentionPolicy(WEEK, WEEK), Metrics())
    assert [r.rows for r in results] == [1, 2]


async def test_concurrent_purges_delete_each_row_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for n in range(60):
            await add_row(conn, "done", age_s=10 * DAY, done_age_s=10 * DAY, aggregate_id=f"p{n}")
        for n in range(45):
            await add_key(conn, f"k{n}", age_s=10 * DAY)
        keep = await add_row(conn, "dead", age_s=10 * DAY)
    metrics = [Metrics() for _ in range(4)]
    policy = RetentionPolicy(WEEK, WEEK, batch_size=4)
    runs = await asyncio.gather(*(retention.purge(pool, policy, m) for m in metrics))
    assert sum(r[0].rows for r in runs) == 60
    assert sum(r[1].rows for r in runs) == 45
    assert sum(purged(m, OUTBOX) for m in metrics) == 60
    assert await ids(pool) == {keep}
    assert await keys(pool) == set()


# --------------------------------------------------------------------------- the worker job
def _deps(settings: Settings, pool: asyncpg.Pool, metrics: Metrics) -> WorkerDeps:
    return WorkerDeps(settings, pool, cast(ErpPort, None), metrics)  # the job never calls it


async def test_worker_job_follows_the_settings(pool: asyncpg.Pool, settings: Settings) -> None:
    settings = settings.model_copy(
        update={
            "retention_interval_s": 120.0,
            "outbox_retention_s": 2 * DAY,
            "idempotency_retention_s": 3 * DAY,
            "retention_batch_size": 2,
        }
    )
    assert retention_policy(settings) == RetentionPolicy(2 * DAY, 3 * DAY, batch_size=2)
    job = next(j for j in build_jobs(settings) if j.name == "retention")
    assert job.singleton and job.interval_s == 120.0
    gone = await add_row(pool, "done", age_s=3 * DAY, done_age_s=2.5 * DAY)
    kept = await add_row(pool, "done", age_s=3 * DAY, done_age_s=1.5 * DAY)
    await add_key(pool, "gone", age_s=3.5 * DAY)
    await add_key(pool, "kept", age_s=2.5 * DAY)
    metrics = Metrics()

    # Another worker runs it: this one skips the round and deletes nothing.
    async with pool.acquire() as other:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", job.lock_key)
        try:
            assert await run_singleton(pool, job, _deps(settings, pool, metrics)) is None
            assert gone in await ids(pool)
        finally:
            await other.execute("SELECT pg_advisory_unlock($1)", job.lock_key)

    assert await run_singleton(pool, job, _deps(settings, pool, metrics)) == 2
    assert await ids(pool) == {kept}
    assert await keys(pool) == {"kept"}
    assert purged(metrics, OUTBOX) == 1
    assert purged(metrics, IDEMPOTENCY_KEYS) == 1


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        RetentionPolicy(WEEK, WEEK, batch_size=0)
    with pytest.raises(ValueError, match="positive"):
        RetentionPolicy(0, WEEK)
    with pytest.raises(ValueError):
        Settings(outbox_retention_s=0)
    with pytest.raises(ValueError):
        Settings(retention_batch_size=0)


# --------------------------------------------------------------------------- the CLI
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["outbox", "purge", *argv])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("90s", 90),
        ("15m", 900),
        ("12h", 43200),
        ("30d", 30 * DAY),
        ("2w", 2 * WEEK),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "0d", "-1d", "1y", "d", "1 d 2h", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


@pytest.mark.parametrize("argv", [["--older-than", "0"], ["--batch-size", "0"]])
def test_cli_refuses_bad_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _args(*argv)
    assert exc.value.code == 2


async def test_cli_purge(
    pool: asyncpg.Pool, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    old = await add_row(pool, "done", age_s=3 * DAY, done_age_s=2 * DAY)
    recent = await add_row(pool, "done", age_s=3 * DAY, done_age_s=3600)
    dead = await add_row(pool, "dead", age_s=30 * DAY)
    await add_key(pool, "old", age_s=3 * DAY)
    await add_key(pool, "recent", age_s=60)

    # Dry run: counts, deletes nothing.
    assert await run_outbox(settings, _args("--older-than", "1d", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "would purge 1 done outbox row(s) done before" in out
    assert "would purge 0 idempotency key(s) created before" in out  # default: 7 days
    assert await ids(pool) == {old, recent, dead}

    assert await run_outbox(settings, _args("--older-than", "1d", "--outbox-only")) == 0
    out = capsys.readouterr().out
    assert "purged 1 done outbox row(s)" in out and "in 1 batch(es)" in out
    assert "idempotency" not in out
    assert await ids(pool) == {recent, dead}
    assert await keys(pool) == {"old", "recent"}

    assert await run_outbox(settings, _args("--keys-older-than", "1h", "--keys-only")) == 0
    out = capsys.readouterr().out
    assert "purged 1 idempotency key(s) created before" in out
    assert "outbox" not in out
    assert await keys(pool) == {"recent"}

    # Without arguments: the settings' retention (7 days): nothing is that old any more.
    assert await run_outbox(settings, _args("--batch-size", "1")) == 0
    assert "purged 0 done outbox row(s)" in capsys.readouterr().out
    assert await ids(pool) == {recent, dead}
