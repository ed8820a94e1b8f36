"""Baskets are priced from in-process caches (rule book, store price rows): every write, made
through this process or anywhere else (the price sync, an import, another replica), is seen by
the next basket; a change made behind the caches' back is seen within their TTL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from service.api.appkeys import PRICES, RULES
from service.api.availability import ItemOut
from service.api.prices import BasketOut
from service.erp.port import StorePrice
from service.usecases.promotions import admin as promotions_uc
from service.usecases.promotions.model import RuleFields, read_import
from service.usecases.promotions.prices import PriceCache
from stores import prices as prices_repo
from tests.api.test_promotions import J, M, call, price, rule, seed_world, store_basket
from tests.conftest import KeyFactory


@pytest.fixture
async def world(pool, make_key: KeyFactory) -> dict[str, str]:
    return await seed_world(pool, make_key)


async def eventually(check: Callable[[], Any], timeout_s: float = 5.0) -> None:
    """Wait until ``check()`` (sync or async) is true: a NOTIFY arrives after the commit."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, "the change was never seen"
        await asyncio.sleep(0.02)


def prices_of(client: TestClient) -> PriceCache:
    return client.app[PRICES]  # type: ignore[index]


async def listening(client: TestClient) -> None:
    await eventually(lambda: prices_of(client).listening)


async def total(client: TestClient, key: str, *lines: tuple[str, int]) -> str:
    body = await price(client, key, store_basket(*lines))
    BasketOut.model_validate(body)
    assert set(body["lines"][0]["item"]) == set(ItemOut.model_fields)
    return str(body["totals"]["total"])


async def sync_price(pool: asyncpg.Pool, store: str, sku: str, base: str, current: str) -> None:
    """What the price sync does (in the worker process): write, NOTIFY at commit."""
    record = StorePrice(store, "", sku, "EUR", Decimal(base), Decimal(current), Decimal(0), "")
    async with pool.acquire() as conn, conn.transaction():
        await prices_repo.apply_prices(conn, [record], datetime.now(UTC))


async def test_a_price_from_the_sync_is_seen_by_the_next_basket(client, world, pool) -> None:
    key = world["storefront"]
    await listening(client)
    assert await total(client, key, (J, 1)) == "60.00"
    assert len(prices_of(client)) == 1  # the row is cached

    await sync_price(pool, "PAR", J, "60.00", "45.00")
    await eventually(lambda: len(prices_of(client)) == 0)  # dropped by the notification
    assert await total(client, key, (J, 1)) == "45.00"


async def test_a_change_behind_the_caches_back_is_seen_within_the_ttl(client, world, pool) -> None:
    key, cache = world["storefront"], prices_of(client)
    await listening(client)
    now = [1000.0]
    cache.clock = lambda: now[0]
    assert await total(client, key, (J, 1)) == "60.00"
    await pool.execute(  # by hand: no notification
        "UPDATE store_prices SET current_price = 40 WHERE store_id = 'PAR' AND sku = $1", J
    )
    assert await total(client, key, (J, 1)) == "60.00"  # served from the cache
    now[0] += cache.ttl_s
    assert await total(client, key, (J, 1)) == "40.00"


async def test_a_rule_changed_through_the_admin_api_is_seen_at_once(client, world) -> None:
    admin, key = world["admin"], world["storefront"]
    client.app[RULES].refresh_s = 3600  # type: ignore[index]  # only invalidation can tell
    assert await total(client, key, (J, 1)) == "60.00"
    path = "/v1/admin/promotions/DENIM"
    await call(client, "PUT", path, admin, 201, json=rule("percentage", percent=10))
    assert await total(client, key, (J, 1)) == "54.00"
    await call(client, "PUT", path, admin, 200, json=rule("fixed_amount", amount="20.00"))
    assert await total(client, key, (J, 1)) == "40.00"
    await call(client, "DELETE", path, admin, 204)
    assert await total(client, key, (J, 1)) == "60.00"


async def test_a_rule_written_by_another_process_is_seen_without_waiting(
    client, world, pool
) -> None:
    key = world["storefront"]
    client.app[RULES].refresh_s = 3600  # type: ignore[index]  # only the notification can tell
    await listening(client)
    assert await total(client, key, (J, 1)) == "60.00"
    fields = RuleFields.model_validate(rule("percentage", percent=10))
    await promotions_uc.put_rule(pool, "DENIM", fields)  # e.g. the CLI, another replica

    async def discounted() -> bool:
        return await total(client, key, (J, 1)) == "54.00"

    await eventually(discounted)


async def test_categories_are_seen_at_once_here_and_soon_from_elsewhere(
    client, world, pool
) -> None:
    admin, key = world["admin"], world["storefront"]
    await listening(client)
    tops = {"categories": ["tops"], "label": "Tops"}
    await call(
        client,
        "PUT",
        "/v1/admin/promotions/TOPS",
        admin,
        201,
        json=rule("percentage", tops, percent=50),
    )
    assert await total(client, key, (M, 1), (J, 1)) == "75.00"  # 15 + 60: nothing is a top yet
    await call(
        client, "PUT", f"/v1/admin/items/{M}/categories", admin, 200, json={"categories": ["tops"]}
    )
    assert await total(client, key, (M, 1), (J, 1)) == "67.50"  # at once, without waiting

    document = read_import({"rules": [], "item_categories": {J: ["tops"]}})
    await promotions_uc.import_promotions(pool, document)  # the CLI, in another process

    async def jeans_are_tops() -> bool:
        return await total(client, key, (M, 1), (J, 1)) == "37.50"

    await eventually(jeans_are_tops)


async def test_a_lost_listener_stops_the_cache_until_it_is_back(client, world, pool) -> None:
    key, cache = world["storefront"], prices_of(client)
    await listening(client)
    assert await total(client, key, (J, 1)) == "60.00"
    assert len(cache) == 1
    killed = await pool.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN \"omnistock_pricing\"%'"
    )
    assert killed == 1
    await eventually(lambda: not cache.listening)
    assert len(cache) == 0
    await pool.execute(  # missed by nobody: nothing is cached meanwhile
        "UPDATE store_prices SET current_price = 40 WHERE store_id = 'PAR' AND sku = $1", J
    )
    assert await total(client, key, (J, 1)) == "40.00"
    await listening(client)  # back after a second
    assert await total(client, key, (J, 1)) == "40.00"
    assert len(cache) == 1
