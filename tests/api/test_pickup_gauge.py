"""``omnistock_pickups{state}``: pickups by state, read from PostgreSQL when /metrics is scraped;
``omnistock_pickup_create_writes_total{outcome}``: how pickup creations wrote."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from service.domain.pickups import PickupState
from stores import store_directory as directory_repo
from tests.api.stock_fixtures import seed
from tests.conftest import AppFactory, KeyFactory, bearer

_PICKUP = """
INSERT INTO pickups (id, kind, state, store_id, customer, code_hash, code_salt, deadline)
VALUES ($1, 'reservation', $2, $3, '{}'::jsonb, '\\x00', '\\x00', $4)
"""


async def add_pickups(pool: asyncpg.Pool, state: str, count: int, store_id: str = "S1") -> None:
    deadline = datetime.now(UTC) + timedelta(hours=48)
    async with pool.acquire() as conn, conn.transaction():
        await directory_repo.upsert(conn, {"store_id": store_id})
        for _ in range(count):
            await conn.execute(_PICKUP, uuid.uuid4(), state, store_id, deadline)


def gauge(text: str) -> dict[str, float]:
    """state -> value of every omnistock_pickups series in a scrape."""
    return {
        m[1]: float(m[2])
        for m in re.finditer(r'^omnistock_pickups\{state="([a-z_]+)"\} (\S+)$', text, re.M)
    }


async def test_pickups_by_state_at_scrape_time(make_client: AppFactory, pool: asyncpg.Pool) -> None:
    client = await make_client()
    # No pickup yet: every state is exported, at 0.
    text = await (await client.get("/metrics")).text()
    assert "# TYPE omnistock_pickups gauge" in text
    assert gauge(text) == {state.value: 0 for state in PickupState}

    await add_pickups(pool, "confirmed", 3)
    await add_pickups(pool, "ready", 2, store_id="S2")
    await add_pickups(pool, "no_show", 1)
    text = await (await client.get("/metrics")).text()
    expected = {state.value: 0.0 for state in PickupState}
    expected |= {"confirmed": 3, "ready": 2, "no_show": 1}
    assert gauge(text) == expected

    # A transition shows at the next scrape (no stale value from the previous one).
    await pool.execute("UPDATE pickups SET state = 'collected' WHERE state = 'ready'")
    text = await (await client.get("/metrics")).text()
    assert gauge(text) == expected | {"ready": 0, "collected": 2}


async def test_scrape_survives_a_database_outage(
    make_client: AppFactory, pool: asyncpg.Pool
) -> None:
    """The gauges keep their last values; /metrics still answers."""
    client = await make_client()
    await add_pickups(pool, "confirmed", 1)
    assert gauge(await (await client.get("/metrics")).text())["confirmed"] == 1
    await pool.execute("ALTER TABLE pickups RENAME TO pickups_away")
    try:
        resp = await client.get("/metrics")
        assert resp.status == 200
        assert gauge(await resp.text())["confirmed"] == 1
    finally:
        await pool.execute("ALTER TABLE pickups_away RENAME TO pickups")


def writes(text: str) -> dict[str, float]:
    """outcome -> value of every omnistock_pickup_create_writes_total series in a scrape."""
    pattern = r'^omnistock_pickup_create_writes_total\{outcome="([a-z_]+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.M)}


async def test_pickup_writes_by_outcome(
    make_client: AppFactory, pool: asyncpg.Pool, make_key: KeyFactory
) -> None:
    await seed(pool)
    key = await make_key("storefront")
    client = await make_client()
    assert writes(await (await client.get("/metrics")).text()) == {
        "created": 0,
        "stock_moved": 0,
        "locked": 0,
    }
    body = {
        "kind": "reservation",
        "store_id": "PAR",
        "customer": {"email": "m@example.com"},
        "lines": [{"sku": "JEANS-32", "quantity": 1}],
    }
    for idem in ("w1", "w2", "w1"):  # the third is a replay: it takes the locked path
        resp = await client.post(
            "/v1/pickups", json=body, headers={**bearer(key), "Idempotency-Key": idem}
        )
        assert resp.status == 201
    assert writes(await (await client.get("/metrics")).text()) == {
        "created": 2,
        "stock_moved": 0,
        "locked": 1,
    }
