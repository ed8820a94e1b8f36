"""``stores.stock.apply_stock_lines``: the read-before-write path and its fallback.

Unchanged rows are only read (not rewritten, not even locked), new rows take a plain INSERT,
changed rows the upsert; a duplicate pair in a batch or a row another writer inserts meanwhile
send the batch through the general upsert instead. Whatever the path, the table ends as a model
of "newest value per (store, sku), by as_of" says.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.erp.port import StockLine
from stores import stock as stock_repo

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
Key = tuple[str, str]


async def _apply(
    conn: asyncpg.Connection, lines: list[StockLine], at: datetime, read_first: bool = True
):
    """The read-first path, whatever the batch's size (small batches take the plain upsert by
    default: ``READ_FIRST_MIN_LINES``)."""
    async with conn.transaction():
        return await stock_repo.apply_stock_lines(conn, lines, at, read_first=read_first)


async def _rows(conn: asyncpg.Connection) -> dict[Key, tuple[int, datetime]]:
    rows = await conn.fetch("SELECT store_id, sku, erp_available, as_of FROM stock")
    return {(r["store_id"], r["sku"]): (r["erp_available"], r["as_of"]) for r in rows}


async def test_unchanged_rows_are_neither_rewritten_nor_locked(pool: asyncpg.Pool) -> None:
    lines = [StockLine(s, f"SKU{i}", i, "") for s in ("S1", "S2") for i in range(30)]
    async with pool.acquire() as conn:
        first = await _apply(conn, lines, T0)
        assert first.changed == 60 and sorted(first.skus) == sorted({x.sku for x in lines})
        before = await conn.fetch("SELECT store_id, sku, xmin::text, xmax::text FROM stock")
        again = await _apply(conn, lines, T0 + timedelta(minutes=1))
        after = await conn.fetch("SELECT store_id, sku, xmin::text, xmax::text FROM stock")
    assert again.changed == 0 and again.skus == []
    assert sorted(map(tuple, before)) == sorted(map(tuple, after))  # no new version, no lock
    assert {r["xmax"] for r in after} == {"0"}


async def test_new_changed_and_unchanged_rows_in_one_batch(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await _apply(conn, [StockLine("S1", "A", 1), StockLine("S1", "B", 2)], T0)
        later = T0 + timedelta(minutes=5)
        applied = await _apply(
            conn, [StockLine("S1", "A", 1), StockLine("S1", "B", 7), StockLine("S2", "C", 3)], later
        )
        assert applied.changed == 2 and sorted(applied.skus) == ["B", "C"]
        assert await _rows(conn) == {
            ("S1", "A"): (1, T0),
            ("S1", "B"): (7, later),
            ("S2", "C"): (3, later),
        }


async def test_an_older_read_does_not_overwrite_a_newer_value(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await _apply(conn, [StockLine("S1", "A", 5)], T0)
        applied = await _apply(conn, [StockLine("S1", "A", 9)], T0 - timedelta(seconds=1))
        assert applied.changed == 0
        assert await _rows(conn) == {("S1", "A"): (5, T0)}


async def test_a_pair_twice_in_a_batch_keeps_one_of_its_values(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        # new twice: the plain INSERT fails, the general upsert writes one value
        applied = await _apply(conn, [StockLine("S1", "A", 1), StockLine("S1", "A", 2)], T0)
        assert applied.changed == 1 and applied.skus == ["A"]
        assert (await _rows(conn))[("S1", "A")][0] in (1, 2)
        # stored and changed twice: the upsert would touch the row twice, the fallback once
        later = T0 + timedelta(minutes=1)
        applied = await _apply(conn, [StockLine("S1", "A", 8), StockLine("S1", "A", 9)], later)
        assert applied.changed == 1
        assert (await _rows(conn))[("S1", "A")] in ((8, later), (9, later))


async def test_a_row_another_writer_inserts_meanwhile(pool: asyncpg.Pool) -> None:
    """The other writer's row is not in this batch's snapshot: the plain INSERT waits for it,
    fails, and the general upsert applies this batch (newer read) over it."""
    later = T0 + timedelta(minutes=1)
    async with pool.acquire() as other, pool.acquire() as conn:
        tx = other.transaction()
        await tx.start()
        await stock_repo.apply_stock_lines(other, [StockLine("S1", "A", 4)], T0)
        write = asyncio.create_task(_apply(conn, [StockLine("S1", "A", 6)], later))
        await asyncio.sleep(0.3)
        assert not write.done()  # waiting on the other writer's uncommitted row
        await tx.commit()
        applied = await asyncio.wait_for(write, 10)
        assert applied.changed == 1 and applied.skus == ["A"]
        assert await _rows(conn) == {("S1", "A"): (6, later)}


_STORES, _SKUS = ("S1", "S2", "S3"), ("A", "B", "C", "D")
_batch = st.dictionaries(
    st.tuples(st.sampled_from(_STORES), st.sampled_from(_SKUS)), st.integers(0, 3), max_size=12
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.tuples(_batch, st.integers(-2, 2)), min_size=1, max_size=5),
    read_first=st.booleans(),
)
async def test_the_table_follows_the_newest_read_of_each_row(
    pool: asyncpg.Pool, batches: list[tuple[dict[Key, int], int]], read_first: bool
) -> None:
    """Random batches, read at times that go back and forth: the table holds, per row, the value
    of its newest read that changed it; each batch reports the rows and SKUs it changed. Both
    writes (read first, or the plain upsert small batches take) give the same table."""
    model: dict[Key, tuple[int, datetime]] = {}
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE stock")
        for batch, minutes in batches:
            at = T0 + timedelta(minutes=minutes)
            lines = [StockLine(store, sku, qty) for (store, sku), qty in batch.items()]
            changed = {
                key
                for key, qty in batch.items()
                if key not in model or (model[key][0] != qty and model[key][1] <= at)
            }
            model.update({key: (batch[key], at) for key in changed})
            applied = await _apply(conn, lines, at, read_first)
            assert applied.changed == len(changed)
            assert sorted(applied.skus) == sorted({sku for _, sku in changed})
        assert await _rows(conn) == model


async def test_small_batches_take_the_plain_upsert_and_big_ones_read_first(
    pool: asyncpg.Pool,
) -> None:
    """A read-through's few lines go in one statement (no savepoint round trips), which locks the
    unchanged rows it finds (xmax set); a page of a full pass reads first: its unchanged rows are
    neither rewritten nor locked."""
    small = [StockLine("S1", f"K{i}", 1) for i in range(3)]
    big = [StockLine("S2", f"K{i}", 1) for i in range(stock_repo.READ_FIRST_MIN_LINES)]
    locks = "SELECT store_id, xmax::text <> '0' AS locked FROM stock"
    async with pool.acquire() as conn:
        for lines in (small, big):
            await _apply(conn, lines, T0, read_first=False)
        for lines in (small, big):
            async with conn.transaction():
                applied = await stock_repo.apply_stock_lines(conn, lines, T0 + timedelta(1))
            assert applied.changed == 0
        locked = {(r["store_id"], r["locked"]) for r in await conn.fetch(locks)}
    assert locked == {("S1", True), ("S2", False)}


async def test_a_batch_of_skus_not_stored_yet_is_inserted_straight_in(
    pool: asyncpg.Pool, monkeypatch
) -> None:
    """No row of the batch's SKUs yet (a first pass, new items): one plain INSERT from the
    staging table with the pass's time, not the read-first write (made to fail here, so taking
    it would show), SKUs as the general path reports them."""
    monkeypatch.setattr(stock_repo, "_WRITE_CHANGED", "SELECT $1::timestamptz, 1/0")
    lines = [StockLine(s, f"SKU{i}", i) for s in ("S2", "S1") for i in range(3)]
    async with pool.acquire() as conn:
        applied = await _apply(conn, lines, T0)
        assert applied.changed == 6 and applied.skus == ["SKU0", "SKU1", "SKU2"]
        assert await _rows(conn) == {(x.store_id, x.sku): (x.available, T0) for x in lines}
        # one SKU of the batch stored: the general way (the failing read-first write)
        with pytest.raises(asyncpg.DivisionByZeroError):
            await _apply(conn, [StockLine("S3", "NEW", 1), StockLine("S3", "SKU0", 1)], T0)


async def test_pool_connections_run_without_jit(pool: asyncpg.Pool) -> None:
    """JIT compiled the sync's batch write on every page after a first load (no statistics yet:
    estimates over jit_above_cost), 0.4 s a page: the pool turns it off."""
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW jit") == "off"
