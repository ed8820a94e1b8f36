"""Optimistic pickup creation: what happens when the database moves between the unlocked read
and the guarded write (sql/0014). Each test lets something else commit in that gap, through
another connection, then checks the outcome and everything written."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from service.domain.errors import InsufficientStock
from service.domain.pickup_codes import CodeHasher
from service.domain.pickups import Actor, ActorKind
from service.erp.port import Item, StockLine
from service.errors import Conflict
from service.usecases.catalog.identifiers import ItemLookup
from service.usecases.pickups import create as uc
from service.usecases.pickups.code_seal import CodeSealer
from stores import items as items_repo
from stores import pickups as repo
from stores import stock as stock_repo
from stores.db import create_pool
from stores.pickup_records import CreateContext, Guard, NewPickupRow, ReadContext
from tests.api.stock_fixtures import now, seed

STOREFRONT = Actor(ActorKind.STOREFRONT)
HASHER = CodeHasher(b"guard tests")
SETTINGS = uc.PickupSettings(code_hasher=HASHER, code_sealer=CodeSealer(b"guard tests"))


def _new(qty: int, sku: str = "JEANS-32", **extra: Any) -> uc.NewPickup:
    return uc.NewPickup(
        extra.pop("kind", "reservation"),
        "PAR",
        {"email": "guard@example.com"},
        [uc.NewLine(ItemLookup(sku=sku), qty, **extra.pop("line", {}))],
        **extra,
    )


def _idem(key: str, body: Any = None) -> uc.Idempotency:
    return uc.Idempotency("test-principal", key, body or {"key": key})


class Gap:
    """Runs ``action`` between the read and the guarded write of the next ``times`` creations,
    and counts the reads, guarded writes and locked-path reads made (the locked path writes
    through the same ``repo.create``, without a guard: not counted as a guarded write)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.action: Callable[[], Awaitable[None]] | None = None
        self.times = 0
        self.reads = self.writes = self.locked = 0
        read, write, locked = repo.read_create, repo.create, repo.prepare_create

        async def counted_read(*args: Any, **kwargs: Any) -> ReadContext:
            self.reads += 1
            return await read(*args, **kwargs)

        async def gapped_write(
            conn: asyncpg.Connection, new: NewPickupRow, guard: Guard | None = None
        ) -> None:
            if guard is not None:
                self.writes += 1
                if self.action is not None and self.times > 0:
                    self.times -= 1
                    await self.action()
            await write(conn, new, guard)

        async def counted_locked(*args: Any, **kwargs: Any) -> CreateContext:
            self.locked += 1
            return await locked(*args, **kwargs)

        monkeypatch.setattr(repo, "read_create", counted_read)
        monkeypatch.setattr(repo, "create", gapped_write)
        monkeypatch.setattr(repo, "prepare_create", counted_locked)

    def between(self, action: Callable[[], Awaitable[None]], times: int = 1) -> None:
        self.action, self.times = action, times


@pytest.fixture
def gap(monkeypatch: pytest.MonkeyPatch) -> Gap:
    return Gap(monkeypatch)


async def _held(pool: asyncpg.Pool, sku: str = "JEANS-32") -> int:
    return int(
        await pool.fetchval(
            "SELECT coalesce(sum(qty), 0) FROM stock_holds "
            "WHERE store_id = 'PAR' AND sku = $1 AND released_at IS NULL",
            sku,
        )
    )


async def test_a_hold_within_the_headroom_does_not_stop_the_write(pool, gap) -> None:
    await seed(pool)  # 10 of everything

    async def other() -> None:  # 3 units held by another request meanwhile
        await uc.create_pickup(pool, _new(3), STOREFRONT, _idem("other"), SETTINGS)

    gap.between(other)
    outcomes: list[str] = []
    status, body = await uc.create_pickup(
        pool, _new(6), STOREFRONT, _idem("mine"), SETTINGS, observe=outcomes.append
    )
    assert status == 201 and body["state"] == "confirmed"
    assert outcomes == ["created"]
    assert await _held(pool) == 9
    assert (gap.reads, gap.writes, gap.locked) == (2, 2, 0)  # both in one read and one write


async def test_a_hold_beyond_the_headroom_makes_it_read_again_and_refuse(pool, gap) -> None:
    await seed(pool)

    async def other() -> None:
        await uc.create_pickup(pool, _new(8), STOREFRONT, _idem("other"), SETTINGS)

    gap.between(other)
    with pytest.raises(InsufficientStock) as refused:
        await uc.create_pickup(pool, _new(5), STOREFRONT, _idem("mine"), SETTINGS)
    (short,) = refused.value.shortfalls
    assert (short.requested, short.available) == (5, 2)
    assert await _held(pool) == 8
    # the failed write left nothing: no pickup, no stored answer under its key
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'mine'") == 0
    assert gap.reads == 3  # mine, the other's, mine again


async def test_a_stock_update_in_the_gap_makes_it_read_again(pool, gap) -> None:
    await seed(pool)

    async def sync() -> None:  # the ERP says 3 now (a new snapshot)
        await pool.execute(
            "UPDATE stock SET erp_available = 3, as_of = $1 WHERE store_id = 'PAR'", now()
        )

    gap.between(sync)
    with pytest.raises(InsufficientStock):
        await uc.create_pickup(pool, _new(5), STOREFRONT, _idem("a"), SETTINGS)
    assert await _held(pool) == 0
    gap.between(sync)
    status, _ = await uc.create_pickup(pool, _new(2), STOREFRONT, _idem("b"), SETTINGS)
    assert status == 201 and await _held(pool) == 2
    assert (gap.reads, gap.writes) == (4, 3)  # refused after 2 reads; created after 2 writes


async def test_a_newer_snapshot_with_the_same_quantity_still_reads_again(pool, gap) -> None:
    """as_of decides which acknowledged holds still count: a moved as_of is a moved row."""
    await seed(pool)

    async def touch() -> None:
        await pool.execute("UPDATE stock SET as_of = $1 WHERE store_id = 'PAR'", now())

    gap.between(touch)
    status, _ = await uc.create_pickup(pool, _new(1), STOREFRONT, _idem("a"), SETTINGS)
    assert status == 201
    assert (gap.reads, gap.writes, gap.locked) == (2, 2, 0)


async def test_stock_moving_at_every_attempt_ends_on_the_locked_path(pool, gap) -> None:
    await seed(pool)

    async def touch() -> None:
        await pool.execute("UPDATE stock SET as_of = $1 WHERE store_id = 'PAR'", now())

    gap.between(touch, times=100)
    outcomes: list[str] = []
    status, body = await uc.create_pickup(
        pool, _new(4), STOREFRONT, _idem("a"), SETTINGS, observe=outcomes.append
    )
    assert status == 201
    assert outcomes == ["stock_moved"] * 3 + ["locked"]
    assert (gap.reads, gap.writes, gap.locked) == (3, 3, 1)  # 3 optimistic, then locked
    assert await _held(pool) == 4
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    stored = await pool.fetchrow("SELECT status, response FROM idempotency_keys WHERE key = 'a'")
    assert stored["status"] == 201 and stored["response"]["id"] == body["id"]


async def test_zero_optimistic_attempts_always_lock(pool, gap) -> None:
    await seed(pool)
    locked = uc.PickupSettings(code_hasher=HASHER, optimistic_attempts=0)
    status, _ = await uc.create_pickup(pool, _new(1), STOREFRONT, _idem("a"), locked)
    assert status == 201
    assert (gap.reads, gap.writes, gap.locked) == (0, 0, 1)


async def test_the_same_key_committed_in_the_gap_is_replayed(pool, gap) -> None:
    await seed(pool)
    first: dict[str, Any] = {}

    async def twin() -> None:  # the same request, sent twice by the storefront
        first["answer"] = await uc.create_pickup(pool, _new(2), STOREFRONT, _idem("same"), SETTINGS)

    gap.between(twin)
    status, body = await uc.create_pickup(pool, _new(2), STOREFRONT, _idem("same"), SETTINGS)
    assert (status, body) == first["answer"]
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    assert await _held(pool) == 2
    assert gap.locked == 1  # the guarded write found the key taken and wrote nothing


async def test_an_order_created_in_the_gap_answers_200_with_it(pool, gap) -> None:
    await seed(pool)
    order = {"kind": "order", "ps_order_id": 4242, "line": {"unit_price": Decimal("10.00")}}
    first: dict[str, Any] = {}

    async def other_key() -> None:  # the same order, retried under another Idempotency-Key
        first["answer"] = await uc.create_pickup(
            pool, _new(1, **dict(order)), STOREFRONT, _idem("k1"), SETTINGS
        )

    gap.between(other_key)
    status, body = await uc.create_pickup(
        pool, _new(1, **dict(order)), STOREFRONT, _idem("k2"), SETTINGS
    )
    assert first["answer"][0] == 201
    assert status == 200 and body["id"] == first["answer"][1]["id"]
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    assert await _held(pool) == 1
    replay = await pool.fetchrow("SELECT status, response FROM idempotency_keys WHERE key = 'k2'")
    assert replay["status"] == 200 and replay["response"]["id"] == body["id"]


async def test_the_guard_counts_unseen_holds_whatever_their_acknowledgement(pool, gap) -> None:
    """A hold acknowledged by the ERP before the snapshot no longer counts in ATP; the guard
    still counts it when it appeared in the gap, which can only refuse, never oversell."""
    as_of = await seed(pool)

    async def acked_hold() -> None:
        await pool.execute(
            "INSERT INTO stock_holds (store_id, sku, qty, erp_acked_at) "
            "VALUES ('PAR', 'JEANS-32', 5, $1)",
            as_of - timedelta(seconds=1),  # booked before the snapshot: the snapshot has it
        )

    gap.between(acked_hold)
    status, _ = await uc.create_pickup(pool, _new(6), STOREFRONT, _idem("a"), SETTINGS)
    # the re-read sees the acked hold as booked (not counted): 10 available, 6 granted
    assert status == 201
    assert (gap.reads, gap.writes, gap.locked) == (2, 2, 0)


async def test_optimistic_and_locked_creations_together_never_oversell(pool) -> None:
    """Both paths at once on two SKUs, lines in both orders: no oversell, no deadlock."""
    await seed(pool)
    locked = uc.PickupSettings(code_hasher=HASHER, optimistic_attempts=0)

    async def one(i: int) -> str:
        pair = [("TSHIRT-RED-M", 1), ("TSHIRT-RED-L", 2)]
        lines = [uc.NewLine(ItemLookup(sku=s), q) for s, q in (pair if i % 2 else pair[::-1])]
        new = uc.NewPickup("reservation", "PAR", {"email": "m@example.com"}, lines)
        try:
            status, _ = await uc.create_pickup(
                pool, new, STOREFRONT, _idem(f"m{i}"), locked if i % 3 == 0 else SETTINGS
            )
        except InsufficientStock:
            return "refused"
        return str(status)

    outcomes = await asyncio.gather(*(one(i) for i in range(60)))
    assert outcomes.count("201") == 5  # 5 x 2 = 10 L: then L is gone
    assert outcomes.count("refused") == 55
    assert await _held(pool, "TSHIRT-RED-L") == 10
    assert await _held(pool, "TSHIRT-RED-M") == 5


async def test_the_check_sees_the_creation_its_lock_waited_for(pool, gap) -> None:
    """In the gap, another transaction locks the row and holds 8 units, and commits 0.3 s
    later: the write waits for that lock and must then see those 8 units (a check made before
    the lock, or in the lock's own snapshot, would not, and would hold 13 of 10)."""
    await seed(pool)
    later: list[asyncio.Task[None]] = []

    async def uncommitted() -> None:
        conn = await pool.acquire()
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "SELECT 1 FROM stock WHERE store_id = 'PAR' AND sku = 'JEANS-32' FOR UPDATE"
        )
        await conn.execute(
            "INSERT INTO stock_holds (store_id, sku, qty) VALUES ('PAR', 'JEANS-32', 8)"
        )

        async def commit_later() -> None:
            await asyncio.sleep(0.3)
            await tx.commit()
            await pool.release(conn)

        later.append(asyncio.create_task(commit_later()))

    gap.between(uncommitted)
    try:
        with pytest.raises(InsufficientStock):
            await uc.create_pickup(pool, _new(5), STOREFRONT, _idem("mine"), SETTINGS)
    finally:
        await asyncio.gather(*later)
    assert await _held(pool) == 8


@pytest.mark.parametrize(("taken", "granted"), [(4, True), (5, False)])
async def test_the_headroom_is_exact(pool, gap, taken: int, granted: bool) -> None:
    """10 in stock, 6 asked: 4 units held in the gap leave exactly enough, 5 do not."""
    await seed(pool)

    async def take() -> None:
        await uc.create_pickup(pool, _new(taken), STOREFRONT, _idem("other"), SETTINGS)

    gap.between(take)
    if granted:
        status, _ = await uc.create_pickup(pool, _new(6), STOREFRONT, _idem("mine"), SETTINGS)
        assert status == 201 and (gap.reads, gap.writes) == (2, 2)
        assert await _held(pool) == 10
    else:
        with pytest.raises(InsufficientStock):
            await uc.create_pickup(pool, _new(6), STOREFRONT, _idem("mine"), SETTINGS)
        assert await _held(pool) == taken


async def test_a_daily_capacity_holds_under_concurrency(pool, gap) -> None:
    """Capped stores take the optimistic path too, which counts on the store's day row under
    its lock: 20 creations of one SKU at once at a store taking 1 pickup a day create exactly
    1, and none falls back to the locked path."""
    await seed(pool)
    await pool.execute("UPDATE stores SET pickup_capacity_per_day = 1 WHERE store_id = 'PAR'")

    async def one(i: int) -> str:
        try:
            status, _ = await uc.create_pickup(pool, _new(1), STOREFRONT, _idem(f"c{i}"), SETTINGS)
        except Conflict as exc:
            return f"refused {exc.extra.get('capacity')}"
        return str(status)

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    assert sorted(outcomes) == ["201"] + ["refused 1"] * 19
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    assert (gap.reads, gap.writes, gap.locked) == (20, 20, 0)
    assert await pool.fetchval("SELECT created FROM pickup_day_counts") == 1


async def test_the_write_refuses_to_run_outside_read_committed(database_url, pool) -> None:
    """Under REPEATABLE READ, a statement would not see the creation its lock waited for."""
    await seed(pool)
    strict = await create_pool(
        database_url,
        min_size=1,
        max_size=2,
        server_settings={"default_transaction_isolation": "repeatable read"},
    )
    try:
        with pytest.raises(asyncpg.FeatureNotSupportedError, match="READ COMMITTED"):
            await uc.create_pickup(strict, _new(1), STOREFRONT, _idem("rr"), SETTINGS)
    finally:
        await strict.close()
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 0


async def test_a_daily_capacity_holds_across_skus_paths_and_replicas(pool, database_url) -> None:
    """100 creations at once of 10 different SKUs at a store taking 40 a day, through two pools
    (two replicas) and both paths' settings: exactly 40 (the count used to be taken under the
    requested SKUs' row locks only, so creations of other SKUs never waited: 41 to 43)."""
    skus = [f"CAP-{n}" for n in range(10)]
    await seed(pool)
    async with pool.acquire() as conn, conn.transaction():
        await items_repo.apply_items(
            conn, [Item(s, f"20000001{n:05d}", s) for n, s in enumerate(skus)]
        )
        await stock_repo.apply_stock_lines(conn, [StockLine("PAR", s, 50) for s in skus], now())
    await pool.execute("UPDATE stores SET pickup_capacity_per_day = 40 WHERE store_id = 'PAR'")
    other = await create_pool(database_url, min_size=1, max_size=10)
    locked = uc.PickupSettings(code_hasher=HASHER, optimistic_attempts=0)
    try:

        async def one(i: int) -> str:
            new = _new(1, sku=skus[i % 10])
            try:
                status, _ = await uc.create_pickup(
                    (pool, other)[i % 2],
                    new,
                    STOREFRONT,
                    _idem(f"d{i}"),
                    (SETTINGS, locked)[i % 3 == 0],
                )
            except Conflict as exc:
                return f"refused {exc.extra.get('capacity')}"
            return str(status)

        outcomes = await asyncio.gather(*(one(i) for i in range(100)))
    finally:
        await other.close()
    assert outcomes.count("201") == 40 and outcomes.count("refused 40") == 60
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 40
    assert await pool.fetchval("SELECT created FROM pickup_day_counts") == 40
    # a refusal, on either path, wrote nothing: no key kept, no hold
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 40
    assert await pool.fetchval("SELECT count(*) FROM stock_holds") == 40


async def test_the_day_count_starts_from_the_pickups_already_made(pool) -> None:
    """A store capped during the day: its first counted creation counts those made before."""
    await seed(pool)
    for i in range(3):
        await uc.create_pickup(pool, _new(1), STOREFRONT, _idem(f"early{i}"), SETTINGS)
    await pool.execute("UPDATE stores SET pickup_capacity_per_day = 4 WHERE store_id = 'PAR'")
    status, _ = await uc.create_pickup(pool, _new(1), STOREFRONT, _idem("fourth"), SETTINGS)
    assert status == 201
    with pytest.raises(Conflict):
        await uc.create_pickup(pool, _new(1), STOREFRONT, _idem("fifth"), SETTINGS)
    assert await pool.fetchval("SELECT created FROM pickup_day_counts") == 4
