"""What a pickup creation reads (``omnistock_read_create``, sql/0015) on both paths, and the
pickup code's hash: made once per creation, and only when a write needs it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from service.domain.atp import BufferOverride, Buffers, OpenHold
from service.domain.errors import InsufficientStock
from service.domain.pickup_codes import CodeHasher
from service.domain.pickups import Actor, ActorKind
from service.usecases.catalog.identifiers import ItemLookup
from service.usecases.pickups import create as uc
from service.usecases.pickups.code_seal import CodeSealer
from stores import pickups as repo
from stores.pickup_records import IdempotencyClaim, KeyTaken, StockMoved, StockRow
from tests.api.stock_fixtures import seed

SKUS = ["JEANS-32", "TSHIRT-RED-M", "NO-SUCH-SKU"]


async def test_both_paths_read_the_same(pool: asyncpg.Pool) -> None:
    """Stock rows (only those that exist; as stored and with the store's last check), the open
    holds (with their ids), the SKU checks, the buffer rows that apply, the store."""
    as_of = await seed(pool)
    checked = as_of + timedelta(seconds=5)
    await pool.execute(
        "INSERT INTO stock_store_checks (store_id, checked_at) VALUES ('PAR', $1)", checked
    )
    await pool.execute(
        "INSERT INTO stock_sku_checks (sku, checked_at) VALUES ('NO-SUCH-SKU', $1)", checked
    )
    await pool.execute(
        "INSERT INTO stock_buffers (store_id, sku, safety_stock, low_stock, hide_below) VALUES "
        "('PAR', NULL, 1, NULL, NULL), (NULL, 'JEANS-32', NULL, 4, NULL), "
        "('LYO', NULL, 9, NULL, NULL)"
    )
    hold_ids = [
        await pool.fetchval(
            "INSERT INTO stock_holds (store_id, sku, qty, erp_acked_at, released_at) "
            "VALUES ($1, 'JEANS-32', $2, $3, $4) RETURNING id",
            store,
            qty,
            acked,
            released,
        )
        for store, qty, acked, released in [
            ("PAR", 2, None, None),
            ("PAR", 3, as_of, None),
            ("PAR", 4, None, as_of),  # released: not open
            ("LYO", 5, None, None),  # another store
        ]
    ]
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, "PAR", SKUS, None, None)
        async with conn.transaction():
            locked = await repo.prepare_create(conn, "PAR", SKUS, None, None)
    ctx = read.context
    assert ctx == locked
    assert ctx.claimed and ctx.existing_order is None
    assert ctx.store is not None and ctx.store.store_id == "PAR" and ctx.store.active
    assert ctx.rows == {s: StockRow(10, checked) for s in SKUS[:2]}
    assert read.stored == {s: StockRow(10, as_of) for s in SKUS[:2]}
    assert ctx.holds == {"JEANS-32": [OpenHold(2, None), OpenHold(3, as_of)]}
    assert sorted(read.seen_holds) == hold_ids[:2]
    assert ctx.checks == {"NO-SUCH-SKU": checked}
    assert ctx.buffers.by_store == {"PAR": BufferOverride(1, None, None)}
    assert ctx.buffers.by_sku == {"JEANS-32": BufferOverride(None, 4, None)}
    assert ctx.buffers.global_default == Buffers(0, 2, 1)


async def test_an_unknown_store_reads_as_none(pool: asyncpg.Pool) -> None:
    await seed(pool)
    async with pool.acquire() as conn:
        read = await repo.read_create(conn, "NOWHERE", SKUS, None, None)
    assert read.context.store is None and read.context.rows == {} and read.seen_holds == []


async def test_the_read_keeps_one_generic_plan(pool: asyncpg.Pool) -> None:
    """Planned anew on every call, the read cost more PostgreSQL CPU than running it."""
    config = await pool.fetchval(
        "SELECT proconfig FROM pg_proc WHERE proname = 'omnistock_read_create'"
    )
    assert config == ["plan_cache_mode=force_generic_plan"]


async def test_a_stored_key_is_seen_by_the_read(pool: asyncpg.Pool) -> None:
    await seed(pool)
    key = IdempotencyClaim("p", "k", "create_pickup", b"digest")
    async with pool.acquire() as conn, conn.transaction():
        await repo.prepare_create(conn, "PAR", SKUS, key, None)  # claims it
        with pytest.raises(KeyTaken):
            await repo.read_create(conn, "PAR", SKUS, key, None)


# ------------------------------------------------------------------------ the code's hash
class CountingHasher(CodeHasher):
    def __init__(self) -> None:
        super().__init__(b"read tests")
        self.made: list[str] = []

    def hash(self, code: str, salt: bytes) -> str:
        self.made.append(code)
        return super().hash(code, salt)


HASHER = CountingHasher()
SETTINGS = uc.PickupSettings(code_hasher=HASHER, code_sealer=CodeSealer(b"read tests"))


def _new(qty: int) -> uc.NewPickup:
    return uc.NewPickup(
        "reservation",
        "PAR",
        {"email": "read@example.com"},
        [uc.NewLine(ItemLookup("JEANS-32"), qty)],
    )


@pytest.fixture
def hashes() -> list[str]:
    HASHER.made.clear()
    return HASHER.made


async def test_a_refused_creation_hashes_no_code(pool: asyncpg.Pool, hashes: list[str]) -> None:
    await seed(pool)  # 10 of everything
    with pytest.raises(InsufficientStock):
        await uc.create_pickup(pool, _new(11), Actor(ActorKind.STOREFRONT), None, SETTINGS)
    assert hashes == []


async def test_a_creation_read_again_hashes_its_code_once(
    pool: asyncpg.Pool, hashes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(pool)
    write, writes = repo.create, []

    async def moved_once(conn: asyncpg.Connection, new: Any, guard: Any = None) -> None:
        writes.append(new.code_hash)
        if len(writes) == 1:
            raise StockMoved
        await write(conn, new, guard)

    monkeypatch.setattr(repo, "create", moved_once)
    outcomes: list[str] = []
    status, body = await uc.create_pickup(
        pool, _new(1), Actor(ActorKind.STOREFRONT), None, SETTINGS, observe=outcomes.append
    )
    assert status == 201 and outcomes == ["stock_moved", "created"]
    assert hashes == [body["pickup_code"]] and writes[0] == writes[1]
    stored = await pool.fetchval("SELECT code_hash FROM pickups")
    assert bytes(stored).decode() == writes[0]


def test_hours_are_parsed_again_only_when_their_text_changed() -> None:
    text = '{"mon": [["09:00", "19:00"]]}'
    first = uc._hours("HRS", text)
    assert uc._hours("HRS", text) is first
    changed = uc._hours("HRS", '{"mon": [["10:00", "19:00"]]}')
    assert changed != first and changed.days[0][0].opens.hour == 10
