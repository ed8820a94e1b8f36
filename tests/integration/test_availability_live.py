"""Availability against the Cegid simulator: read-through refresh, coalescing, fallback when the
ERP is down, cross-replica cache invalidation, and the Redis cache."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from service.api.app import create_app
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import SimulatorState, generate, serve_simulator
from service.usecases.stock import sync
from service.usecases.stock.sync import SyncContext
from tests.api.stock_fixtures import ago, set_stock
from tests.conftest import bearer

USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"


@pytest.fixture
def state() -> SimulatorState:
    return generate(seed=5, stores=4, products=30)


@pytest.fixture
async def sim_url(state: SimulatorState) -> AsyncIterator[str]:
    async with serve_simulator(state, database_id=DB_ID, users={USER: PASSWORD}) as url:
        yield url


@pytest.fixture
async def erp(sim_url: str) -> AsyncIterator[CegidErp]:
    config = CegidConfig(
        base_url=sim_url,
        database_id=DB_ID,
        username=USER,
        password=PASSWORD,
        timeout_s=2,
        retries=0,
        circuit_failure_threshold=1000,
    )
    adapter = await CegidErp.create(config)
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def synced(pool, erp, state: SimulatorState) -> SimulatorState:
    """Items, stores and a full stock pass, all stamped an hour ago (so they need a refresh)."""
    from service.demo import directory_entry
    from service.erp.simulator import store_directory
    from service.observability import Metrics
    from stores import store_directory as directory_repo

    async with pool.acquire() as conn:
        for store in store_directory(state):
            await directory_repo.upsert(conn, directory_entry(store))
    ctx = SyncContext(pool=pool, erp=erp, metrics=Metrics(), page_size=50, clock=lambda: ago(3600))
    await sync.items_pass(ctx)
    await sync.full_stock_pass(ctx)
    return state


async def _calls(sim_url: str) -> int:
    async with httpx.AsyncClient() as http:
        calls = (await http.get(f"{sim_url}/_sim/calls")).json()
    return int(calls.get("ItemInventoryWcfService.GetListItemInventoryDetailByStore", 0))


async def test_old_snapshot_is_refreshed_live(make_client, make_key, synced, erp) -> None:
    item = synced.items[2]
    store = sorted(synced.stores)[0]
    synced.set_on_hand(store, synced.sku_index[item.sku], 42)  # changed since the sync
    client = await make_client(erp=erp, read_through=True)
    key = await make_key("storefront")
    resp = await client.get(f"/v1/availability?sku={item.sku}&store={store}", headers=bearer(key))
    cell = (await resp.json())["stores"][0]
    assert cell["source"] == "live" and cell["stale"] is False
    assert cell["available"] == 42
    resp = await client.get(f"/v1/availability?sku={item.sku}&store={store}", headers=bearer(key))
    assert (await resp.json())["stores"][0]["source"] == "snapshot"  # fresh now


async def test_concurrent_cold_reads_make_one_erp_call(
    make_client, make_key, synced, erp, sim_url
) -> None:
    client = await make_client(erp=erp, read_through=True)
    key = await make_key("storefront")
    item = synced.items[7]
    before = await _calls(sim_url)
    url = f"/v1/availability?sku={item.sku}&near=48.8566,2.3522&radius_km=1000"
    responses = await asyncio.gather(*(client.get(url, headers=bearer(key)) for _ in range(50)))
    bodies = [await r.json() for r in responses]
    assert all(r.status == 200 for r in responses)
    assert await _calls(sim_url) - before == 1
    assert {b["stores"][0]["source"] for b in bodies} <= {"live", "snapshot"}
    metrics = await (await client.get("/metrics")).text()
    assert 'omnistock_stock_refresh_total{outcome="coalesced"}' in metrics


async def test_erp_down_answers_from_the_snapshot_flagged_stale(
    make_client, make_key, synced, erp, sim_url
) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{sim_url}/_sim/faults", json={"kind": "down"})
    client = await make_client(erp=erp, read_through=True, refresh_deadline_s=0.5)
    key = await make_key("storefront")
    item = synced.items[1]
    store = sorted(synced.stores)[1]
    resp = await client.get(f"/v1/availability?sku={item.sku}&store={store}", headers=bearer(key))
    assert resp.status == 200
    cell = (await resp.json())["stores"][0]
    assert cell["stale"] is True and cell["source"] == "fallback"
    assert cell["available"] == synced.available(store, synced.sku_index[item.sku])


async def test_slow_erp_is_not_waited_for(make_client, make_key, synced, erp, sim_url) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{sim_url}/_sim/faults", json={"kind": "latency", "latency_ms": 1500})
    client = await make_client(erp=erp, read_through=True, refresh_deadline_s=0.2)
    key = await make_key("storefront")
    item = synced.items[4]
    url = f"/v1/availability?sku={item.sku}&store={sorted(synced.stores)[0]}"
    started = asyncio.get_running_loop().time()
    resp = await client.get(url, headers=bearer(key))
    assert asyncio.get_running_loop().time() - started < 1.0
    assert (await resp.json())["stores"][0]["source"] == "fallback"
    await asyncio.sleep(1.6)  # the refresh went on in the background
    resp = await client.get(url, headers=bearer(key))
    assert (await resp.json())["stores"][0]["source"] == "snapshot"


async def test_two_replicas_see_each_others_changes(
    aiohttp_client, settings, pool, make_key, synced
) -> None:
    a = await aiohttp_client(create_app(settings, pool=pool))
    b = await aiohttp_client(create_app(settings, pool=pool))
    key = await make_key("storefront")
    item, store = synced.items[0], sorted(synced.stores)[0]
    url = f"/v1/availability?sku={item.sku}&store={store}"
    for client in (a, b):  # both now have the SKU cached
        await client.get(url, headers=bearer(key))
    await set_stock(pool, store, item.sku, 777)  # a sync elsewhere: writes and NOTIFYs
    for client in (a, b):
        for _ in range(50):
            body = await (await client.get(url, headers=bearer(key))).json()
            if body["stores"][0]["available"] == 777:
                break
            await asyncio.sleep(0.02)
        assert body["stores"][0]["available"] == 777
    await a.close()
    await b.close()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
async def test_redis_cache_is_shared_and_invalidated(make_client, make_key, pool, synced) -> None:
    url = os.environ["REDIS_URL"]
    from stores.cache import clear_ours, make_cache

    cache = make_cache(url)
    await clear_ours(cache)  # entries of earlier runs (other databases) must not answer
    await cache.close()
    a = await make_client(redis_url=url)
    b = await make_client(redis_url=url)
    key = await make_key("storefront")
    item, store = synced.items[3], sorted(synced.stores)[2]
    path = f"/v1/availability?sku={item.sku}&store={store}"
    await (await a.get(path, headers=bearer(key))).json()
    metrics_b = await (await b.get("/metrics")).text()
    await (await b.get(path, headers=bearer(key))).json()
    after_b = await (await b.get("/metrics")).text()
    hit = 'omnistock_cache_requests_total{cache="stock",result="hit"}'
    assert hit not in metrics_b and hit in after_b  # b found what a cached
    await set_stock(pool, store, item.sku, 555)
    for _ in range(50):
        body = await (await b.get(path, headers=bearer(key))).json()
        if body["stores"][0]["available"] == 555:
            break
        await asyncio.sleep(0.02)
    assert body["stores"][0]["available"] == 555
