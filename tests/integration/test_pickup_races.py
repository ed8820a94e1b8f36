"""No oversell under concurrency, across two app instances on one database; one pickup per
Idempotency-Key even when the same request arrives many times at once. Each race runs twice:
with the default optimistic creation (unlocked read, guarded write) and with the locked path
only (``OMNISTOCK_PICKUP_OPTIMISTIC_ATTEMPTS=0``)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service.api.app import create_app
from tests.api.stock_fixtures import seed
from tests.conftest import bearer

CUSTOMER = {"email": "race@example.com"}
BOTH_PATHS = pytest.mark.parametrize("attempts", [3, 0], ids=["optimistic", "locked"])


def _body(*lines: tuple[str, int]) -> dict:
    return {
        "kind": "reservation",
        "store_id": "PAR",
        "customer": CUSTOMER,
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
    }


@BOTH_PATHS
async def test_200_concurrent_creations_never_oversell(
    pool, aiohttp_client, settings, make_key, attempts
) -> None:
    # pool first: set up before the apps and closed after them, so that a failed assertion
    # fails the test instead of hanging its teardown
    await seed(pool)  # 10 of everything in every store
    key = await make_key("storefront")
    settings = settings.model_copy(update={"pickup_optimistic_attempts": attempts})
    apps = [await aiohttp_client(create_app(settings, pool=pool)) for _ in range(2)]

    async def one(i: int) -> int:
        client = apps[i % 2]
        resp = await client.post(
            "/v1/pickups",
            json=_body(("JEANS-32", 1)),
            headers={**bearer(key), "Idempotency-Key": f"race-{i}"},
        )
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(one(i) for i in range(200)))
    assert statuses.count(201) == 10
    assert statuses.count(409) == 190
    held = await pool.fetchval("SELECT sum(qty) FROM stock_holds WHERE released_at IS NULL")
    assert held == 10
    # multi-line all-or-nothing under the same race: T-shirts M (10) and L (10) by pairs
    statuses = await asyncio.gather(
        *(
            apps[i % 2].post(
                "/v1/pickups",
                json=_body(("TSHIRT-RED-M", 3), ("TSHIRT-RED-L", 4)),
                headers={**bearer(key), "Idempotency-Key": f"pair-{i}"},
            )
            for i in range(20)
        )
    )
    codes = [r.status for r in statuses]
    assert codes.count(201) == 2  # 3 x 3 = 9 <= 10 M but 3 x 4 = 12 > 10 L: only 2 fit
    rows = dict(
        await pool.fetch(
            "SELECT sku, sum(qty) FROM stock_holds WHERE sku LIKE 'TSHIRT%' GROUP BY sku"
        )
    )
    assert rows == {"TSHIRT-RED-M": 6, "TSHIRT-RED-L": 8}
    for app in apps:
        await app.close()


@BOTH_PATHS
async def test_one_key_sent_20_times_at_once_creates_one_pickup(
    make_client, pool, make_key, attempts
) -> None:
    await seed(pool)
    key = await make_key("storefront")
    client = await make_client(pickup_optimistic_attempts=attempts)
    idem = uuid.uuid4().hex

    async def send() -> dict:
        resp = await client.post(
            "/v1/pickups",
            json=_body(("JEANS-32", 2)),
            headers={**bearer(key), "Idempotency-Key": idem},
        )
        assert resp.status == 201, await resp.text()
        return await resp.json()

    answers = await asyncio.gather(*(send() for _ in range(20)))
    assert len({a["id"] for a in answers}) == 1
    assert len({a["pickup_code"] for a in answers}) == 1
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 1
    assert await pool.fetchval("SELECT sum(qty) FROM stock_holds") == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


@BOTH_PATHS
async def test_one_order_sent_at_once_under_different_keys_is_created_once(
    pool, aiohttp_client, settings, make_key, attempts
) -> None:
    """Orders are idempotent on the PrestaShop order id even when the retries race: the
    losers of the insert answer 200 with the winner's pickup, never a 500."""
    await seed(pool)
    key = await make_key("storefront")
    settings = settings.model_copy(update={"pickup_optimistic_attempts": attempts})
    apps = [await aiohttp_client(create_app(settings, pool=pool)) for _ in range(2)]
    order = {
        "kind": "order",
        "store_id": "PAR",
        "customer": CUSTOMER,
        "lines": [{"sku": "JEANS-32", "quantity": 1, "unit_price": "49.90"}],
        "ps_order_id": 4242,
        "payment_status": "paid",
    }

    async def one(i: int) -> tuple[int, str]:
        resp = await apps[i % 2].post(
            "/v1/pickups", json=order, headers={**bearer(key), "Idempotency-Key": f"o-{i}"}
        )
        body = await resp.json()
        return resp.status, body.get("id", body.get("detail", ""))

    answers = await asyncio.gather(*(one(i) for i in range(12)))
    statuses = sorted(s for s, _ in answers)
    assert statuses == [200] * 11 + [201], answers
    assert len({pickup_id for _, pickup_id in answers}) == 1
    assert await pool.fetchval("SELECT count(*) FROM pickups WHERE ps_order_id = 4242") == 1
    assert await pool.fetchval("SELECT sum(qty) FROM stock_holds") == 1
