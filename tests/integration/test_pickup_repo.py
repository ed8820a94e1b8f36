"""The pickup repository's creation, called directly: the one write (sql/0014) on both paths,
the errors it raises instead of the driver's (having written nothing), and a pickup that reads
back as it was written."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from service.domain.pickups import Actor, ActorKind, PickupState
from service.usecases.pickups.views import pickup_view
from stores import pickups as repo
from stores.pickup_records import (
    CapacityDay,
    IdempotencyClaim,
    KeyTaken,
    LineRecord,
    NewPickupRow,
    OrderExists,
    StockMoved,
    StoreFull,
)
from tests.api.stock_fixtures import now, seed

SKU = "JEANS-32"


def _row(**changes: Any) -> NewPickupRow:
    at = now()
    row = NewPickupRow(
        id=uuid.uuid4(),
        kind="order",
        store_id="PAR",
        customer={"email": "repo@example.com", "first_name": "Ada"},
        ps_order_id=None,
        ps_order_reference="ABCDEFGHI",
        payment_status="paid",
        currency="EUR",
        code_hash="hash",
        code_salt=b"salt",
        created_at=at,
        deadline=at + timedelta(hours=48),
        ready_by=at + timedelta(hours=1),
        lines=(
            LineRecord(1, SKU, "2000000000039", 2, Decimal("10.5"), "Jeans"),
            LineRecord(2, "TSHIRT-RED-M", None, 1, None, ""),
        ),
        held={SKU: 2, "TSHIRT-RED-M": 1},
        actor=Actor(ActorKind.STAFF, "key-1", "Ada"),
        outbox_payload={"pickup_id": "x"},
    )
    return replace(row, **changes)


def _key(name: str) -> IdempotencyClaim:
    return IdempotencyClaim("principal", name, "create_pickup", b"digest")


async def _count(pool: asyncpg.Pool, table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}"))


async def _guarded(pool: asyncpg.Pool, new: NewPickupRow, room: int = 10) -> None:
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, "PAR", list(new.held), new.key, new.ps_order_id)
        await repo.create(conn, new, read.guard(dict.fromkeys(new.held, room)))


async def test_a_pickup_reads_back_as_written_on_both_paths(pool) -> None:
    """The created answer (from the values written) and the read answer are one view."""
    await seed(pool)
    guarded, locked = _row(key=_key("g"), answer={"a": 1}), _row(key=_key("l"), answer={"b": 2})
    await _guarded(pool, guarded)
    async with pool.acquire() as conn, conn.transaction():
        ctx = await repo.prepare_create(conn, "PAR", list(locked.held), locked.key, None)
        assert ctx.claimed
        await repo.create(conn, locked)
    for new in (guarded, locked):
        async with pool.acquire() as conn:
            stored = await repo.read(conn, new.id)
        assert stored is not None
        assert pickup_view(stored) == pickup_view(new.read_back())
        assert pickup_view(stored)["lines"][0]["unit_price"] == "10.50"
        assert stored.state == PickupState.CONFIRMED
    answers = await pool.fetch("SELECT key, status, response FROM idempotency_keys ORDER BY key")
    assert [(r["key"], r["status"], r["response"]) for r in answers] == [
        ("g", 201, {"a": 1}),
        ("l", 201, {"b": 2}),
    ]
    assert await _count(pool, "stock_holds") == 4
    assert await _count(pool, "outbox") == 2


async def test_stock_moved_after_the_read_raises_stock_moved(pool) -> None:
    await seed(pool)
    new = _row(key=_key("k"))
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, "PAR", list(new.held), new.key, None)
        await pool.execute("UPDATE stock SET as_of = $1 WHERE sku = $2", now(), SKU)
        with pytest.raises(StockMoved):
            await repo.create(conn, new, read.guard(dict.fromkeys(new.held, 10)))
    for table in ("pickups", "stock_holds", "outbox", "idempotency_keys"):
        assert await _count(pool, table) == 0, table


async def test_holds_beyond_the_headroom_raise_stock_moved(pool) -> None:
    await seed(pool)
    new = _row()
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, "PAR", list(new.held), None, None)
        await pool.execute(
            "INSERT INTO stock_holds (store_id, sku, qty) VALUES ('PAR', $1, 3)", SKU
        )
        with pytest.raises(StockMoved):
            await repo.create(conn, new, read.guard(dict.fromkeys(new.held, 2)))
    assert await _count(pool, "pickups") == 0


async def test_a_stored_key_raises_key_taken(pool) -> None:
    await seed(pool)
    await _guarded(pool, _row(key=_key("same")))
    with pytest.raises(KeyTaken):  # seen by the read
        await _guarded(pool, _row(key=_key("same")))
    async with pool.acquire() as conn:  # stored between the read and the write
        read = await repo.read_create(conn, "PAR", [SKU], _key("late"), None)
        await _guarded(pool, _row(key=_key("late")))
        with pytest.raises(KeyTaken):
            await repo.create(
                conn, _row(key=_key("late")), read.guard({SKU: 10, "TSHIRT-RED-M": 10})
            )
    assert await _count(pool, "pickups") == 2


async def test_an_order_made_twice_raises_order_exists(pool) -> None:
    await seed(pool)
    await _guarded(pool, _row(ps_order_id=7))
    with pytest.raises(OrderExists):  # seen by the read
        await _guarded(pool, _row(ps_order_id=7))
    async with pool.acquire() as conn, conn.transaction():  # made meanwhile: the insert says so
        with pytest.raises(OrderExists):
            await repo.create(conn, _row(ps_order_id=7))
    assert await _count(pool, "pickups") == 1


async def test_a_full_day_raises_store_full(pool) -> None:
    await seed(pool)
    at = now()
    day = CapacityDay(1, at.date(), at - timedelta(hours=1), at + timedelta(hours=1))
    await _guarded(pool, _row(capacity=day))
    with pytest.raises(StoreFull):
        await _guarded(pool, _row(capacity=day, key=_key("full")))
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(StoreFull):
            await repo.create(conn, _row(capacity=day))
    assert await _count(pool, "pickups") == 1
    assert await _count(pool, "idempotency_keys") == 0
    assert await pool.fetchval("SELECT created FROM pickup_day_counts") == 1


async def test_the_state_check_is_the_domain_state_machine(pool) -> None:
    """The CHECK on pickups.state (sql/0005), as PostgreSQL holds it, allows exactly
    ``PickupState``: a state added to the domain needs a migration."""
    definition = await pool.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'pickups'::regclass AND conname = 'pickups_state_check'"
    )
    assert set(re.findall(r"'([a-z_]+)'::text", definition)) == {s.value for s in PickupState}
