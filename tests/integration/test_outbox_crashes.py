"""The outbox relay when things go wrong at the worst moment: a relay cancelled or killed
mid-post, two relays at once, a pickup's later events waiting for its failing creation."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from service.erp.cegid import CegidErp
from service.erp.simulator import SimulatorState
from service.usecases.outbox.relay import relay_once
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import (
    CREATE,
    UPDATE,
    MakeDeps,
    add_event,
    add_fault,
    calls,
    clear_faults,
    documents,
    drain,
    erp_config,
    new_pickup,
    outbox_rows,
)

# the shared fixtures, used by name
state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps


async def _wait_for_call(url: str, operation: str, within_s: float = 10.0) -> None:
    async with asyncio.timeout(within_s):
        while await calls(url, operation) == 0:  # noqa: ASYNC110 (polling another process)
            await asyncio.sleep(0.02)


async def _lockable(pool: asyncpg.Pool, row_id: int) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute("SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE NOWAIT", row_id)
        except asyncpg.LockNotAvailableError:
            return False
    return True


async def test_a_relay_cancelled_mid_post_releases_the_row(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state)
    [row] = await outbox_rows(pool, pickup_id)
    await add_fault(sim_url, kind="timeout", operation="Create", hang_ms=10_000, count=1)
    deps = make_deps()
    task = asyncio.create_task(relay_once(deps))
    await _wait_for_call(sim_url, CREATE)
    assert not await _lockable(pool, row["id"])  # held while the ERP call is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _lockable(pool, row["id"])
    [after] = await outbox_rows(pool, pickup_id)
    assert after["status"] == "pending" and after["attempts"] == 0  # as if never claimed

    assert await drain(lambda: relay_once(deps)) == 1
    assert list(await documents(sim_url)) == [str(pickup_id)]
    [after] = await outbox_rows(pool, pickup_id)
    assert after["status"] == "done"


_CHILD = """
import asyncio, sys
from service.erp.cegid import CegidErp
from service.observability import Metrics
from service.usecases.outbox.relay import RelayDeps, relay_once
from stores.db import create_pool
from tests.integration.outbox_fixtures import erp_config

async def main(dsn, url):
    pool = await create_pool(dsn, min_size=1, max_size=2)
    erp = await CegidErp.create(erp_config(url, timeout_s=60))
    await relay_once(RelayDeps(pool=pool, erp=erp, metrics=Metrics(), concurrency=1))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_killed_relay_process_releases_its_lock_and_nothing_is_duplicated(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps, database_url
) -> None:
    import sys

    pickup_id = await new_pickup(pool, state)
    [row] = await outbox_rows(pool, pickup_id)
    await add_fault(sim_url, kind="timeout", operation="Create", hang_ms=30_000, count=1)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, database_url, sim_url
    )
    try:
        await _wait_for_call(sim_url, CREATE, within_s=30)
        assert not await _lockable(pool, row["id"])
    finally:
        child.kill()  # SIGKILL: no clean-up of any kind
        await child.wait()
    async with asyncio.timeout(10):
        while not await _lockable(pool, row["id"]):  # noqa: ASYNC110 (the server notices)
            await asyncio.sleep(0.05)
    assert await drain(lambda: relay_once(make_deps())) == 1
    assert list(await documents(sim_url)) == [str(pickup_id)]
    [after] = await outbox_rows(pool, pickup_id)
    assert after["status"] == "done" and after["attempts"] == 1


async def test_two_relays_at_once_post_every_row_once_and_in_order(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps, database_url
) -> None:
    from stores.db import create_pool

    ids = [await new_pickup(pool, state, items=[(i % 12, 1)]) for i in range(12)]
    for pickup_id in ids:
        await add_event(pool, pickup_id, "pickup.ready")
        await add_event(pool, pickup_id, "pickup.collected")
    await add_fault(sim_url, kind="latency", latency_ms=15)
    other_pool = await create_pool(database_url, min_size=1, max_size=4)
    other_erp = await CegidErp.create(erp_config(sim_url))
    try:
        one, two = make_deps(), make_deps(pool=other_pool, erp=other_erp)

        async def both() -> int:
            return sum(await asyncio.gather(relay_once(one), relay_once(two)))

        assert await drain(both) == 36
    finally:
        await other_erp.aclose()
        await other_pool.close()
    assert await calls(sim_url, CREATE) == 12 and await calls(sim_url, UPDATE) == 24
    docs = await documents(sim_url)
    assert {docs[str(i)]["follow_up_status"] for i in ids} == {"PickedUpInStore"}
    for pickup_id in ids:
        rows = await outbox_rows(pool, pickup_id)
        assert [r["status"] for r in rows] == ["done"] * 3
        done = [r["done_at"] for r in rows]
        assert done == sorted(done), "created, ready, collected: in this order"


async def test_ready_waits_while_created_is_failing(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state)
    await add_event(pool, pickup_id, "pickup.ready")
    await add_event(pool, pickup_id, "pickup.collected")
    await add_fault(sim_url, kind="http500", operation="Create")
    deps = make_deps(concurrency=3)
    assert await relay_once(deps) == 1  # the only row due: the others wait for it
    created, ready, collected = await outbox_rows(pool, pickup_id)
    assert created["status"] == "pending" and created["attempts"] == 1
    assert "HTTP 500" in created["last_error"]
    assert (ready["attempts"], collected["attempts"]) == (0, 0)
    assert await calls(sim_url, UPDATE) == 0

    await clear_faults(sim_url)
    await asyncio.sleep(0.01)
    assert await drain(lambda: relay_once(deps)) == 3
    doc = (await documents(sim_url))[str(pickup_id)]
    assert doc["follow_up_status"] == "PickedUpInStore"
    rows = await outbox_rows(pool, pickup_id)
    assert [r["result"].get("follow_up_status") for r in rows[1:]] == [
        "AvailableInStore",
        "PickedUpInStore",
    ]
    assert rows[0]["done_at"] < rows[1]["done_at"] < rows[2]["done_at"]
