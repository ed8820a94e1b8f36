"""The stock cache keeps a SKU's rows in the stores asked for, not in every store of the tenant:
a read costs (and an entry weighs) what the storefront asks, and a store not read yet is read
from PostgreSQL, never taken for "no stock"."""

from __future__ import annotations

import pytest

from service.api.appkeys import READER
from service.usecases.stock.reader import cache_weight
from stores.availability_reads import SkuStock
from stores.cache import BoundedMemoryCache, cache_key
from tests.api.stock_fixtures import add_hold, seed
from tests.conftest import KeyFactory, bearer

SKU = "JEANS-32"


@pytest.fixture
async def key(pool, make_key: KeyFactory) -> str:
    await seed(pool, {("PAR", SKU): 10, ("LYO", SKU): 7, ("MAR", SKU): 4})
    return await make_key("storefront")


async def _cells(client, key: str, *stores: str) -> dict[str, int]:
    query = "&".join(f"store={s}" for s in stores)
    resp = await client.get(f"/v1/availability?sku={SKU}&{query}", headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return {c["store_id"]: c["available"] for c in (await resp.json())["stores"]}


async def _entry(client) -> SkuStock:
    entry = await client.app[READER].cache.get(cache_key("stock", SKU))
    assert entry is not None
    return entry


async def test_an_entry_holds_the_stores_read_and_widens(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=0)
    assert await _cells(client, key, "PAR") == {"PAR": 10}
    entry = await _entry(client)
    assert entry.stores == {"PAR"} and set(entry.rows) == {"PAR"}
    # Lyon was not read: it comes from PostgreSQL (7), not from the entry (which has no row)
    assert await _cells(client, key, "LYO", "PAR") == {"LYO": 7, "PAR": 10}
    entry = await _entry(client)
    assert entry.stores == {"PAR", "LYO"} and set(entry.rows) == {"PAR", "LYO"}
    # both now answered from the entry: a write nobody announces is not seen
    await pool.execute("UPDATE stock SET erp_available = 1 WHERE sku = $1", SKU)
    assert await _cells(client, key, "PAR", "LYO") == {"PAR": 10, "LYO": 7}
    # a store outside the entry is read (with the unannounced write), the rest kept
    assert await _cells(client, key, "MAR") == {"MAR": 1}
    assert (await _entry(client)).stores == {"PAR", "LYO", "MAR"}
    # a store without a row, once read, is covered and answers 0
    assert await _cells(client, key, "VER") == {"VER": 0}
    entry = await _entry(client)
    assert "VER" in entry.stores and "VER" not in entry.rows


async def test_holds_are_read_with_their_store(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=0)
    assert await _cells(client, key, "PAR") == {"PAR": 10}
    await add_hold(pool, "LYO", SKU, 3)  # not announced: the entry covering PAR stays
    assert await _cells(client, key, "LYO") == {"LYO": 4}  # LYO read with its hold
    entry = await _entry(client)
    assert entry.stores == {"PAR", "LYO"} and set(entry.holds) == {"LYO"}
    assert await _cells(client, key, "PAR", "LYO") == {"PAR": 10, "LYO": 4}


def test_widened_takes_the_newer_read_where_both_cover() -> None:
    old = SkuStock(
        "A", {"S1": (5, None), "S2": (2, None)}, {"S2": [(1, None)]}, None, frozenset({"S1", "S2"})
    )
    new = SkuStock("A", {"S3": (9, None)}, {}, None, frozenset({"S2", "S3"}))
    merged = old.widened(new)
    assert merged.stores == {"S1", "S2", "S3"}
    assert merged.rows == {"S1": (5, None), "S3": (9, None)}  # S2's row is gone in the new read
    assert merged.holds == {}  # and so is its hold
    every = SkuStock("A", {"S1": (1, None)}, {}, None, None)
    assert old.widened(every) is every and every.covers(frozenset({"S9"}))


async def test_the_memory_cache_keeps_at_most_its_bound() -> None:
    cache = BoundedMemoryCache(3, timeout=None)
    for n in range(5):
        await cache.set(f"k{n}", n, ttl=60)
    assert [await cache.get(f"k{n}") for n in range(5)] == [None, None, 2, 3, 4]
    await cache.multi_set([(f"m{n}", n) for n in range(4)], ttl=60)
    assert await cache.multi_get(["k4", "m0", "m1", "m2", "m3"]) == [None, None, 1, 2, 3]
    await cache.set("m1", 11, ttl=60)  # written again: the newest, m2 is now the oldest
    await cache.set("x", 0, ttl=60)
    assert await cache.multi_get(["m1", "m2", "m3", "x"]) == [11, None, 3, 0]
    await cache.close()


async def test_the_memory_cache_bound_is_by_weight() -> None:
    """Weighed by what an entry holds (a stock entry: its rows and holds): a few wide entries
    fill the bound as many narrow ones do."""
    cache = BoundedMemoryCache(10, weigh=len, timeout=None)
    await cache.set("a", "x" * 4)
    await cache.set("b", "x" * 4)
    assert cache.weight == 8 and len(cache) == 2
    await cache.set("c", "x" * 5)  # 13 > 10: the oldest goes
    assert (await cache.get("a"), cache.weight, len(cache)) == (None, 9, 2)
    await cache.set("big", "x" * 50)  # over the bound alone: kept, alone
    assert (len(cache), cache.weight, await cache.get("big")) == (1, 50, "x" * 50)
    await cache.delete("big")
    assert (len(cache), cache.weight) == (0, 0)
    row = (1, None)
    entry = SkuStock("A", {"S1": row, "S2": row}, {"S1": [(1, None), (2, None)]}, None, None)
    assert cache_weight(entry) == 5 and cache_weight("other") == 1


async def test_the_memory_cache_expires_entries_when_read(monkeypatch) -> None:
    import stores.cache as module

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    cache = BoundedMemoryCache(100, timeout=None)
    await cache.set("a", 1, ttl=5)
    await cache.set("b", 2)  # no TTL: kept until pushed out
    clock[0] += 4.9
    assert await cache.multi_get(["a", "b"]) == [1, 2] and await cache.exists("a")
    clock[0] += 0.2
    assert await cache.multi_get(["a", "b"]) == [None, 2] and len(cache) == 1
    await cache.delete("b")
    await cache.set("c", 3, ttl=1)
    clock[0] += 2
    await cache.set("d", 4, ttl=60)  # a write also drops the expired entries at the front
    assert len(cache) == 1 and await cache.get("d") == 4
    with pytest.raises(ValueError):
        await cache.add("d", 5)
    await cache.clear(namespace="")
    assert len(cache) == 0 and cache.weight == 0


async def test_get_many_reads_the_memory_cache_as_multi_get_does(monkeypatch) -> None:
    """``stores.cache.get_many`` reads the memory cache without aiocache's layers
    (``peek_many``): the same namespaced keys, values, misses and expiries."""
    import stores.cache as module

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    for namespace in ("omnistock", None):
        cache = BoundedMemoryCache(100, timeout=None, namespace=namespace)
        await cache.set("stock:a", 1, ttl=5)
        await cache.set("stock:b", {"x": 2})
        keys = ["stock:a", "stock:b", "stock:missing"]
        assert await module.get_many(cache, keys) == [1, {"x": 2}, None]
        assert await module.get_many(cache, keys) == await cache.multi_get(keys)
        clock[0] += 5  # a expires
        assert await module.get_many(cache, keys) == [None, {"x": 2}, None]
        assert len(cache) == 1 and cache.weight == 1  # dropped when read, as _live does
        assert await module.get_many(cache, []) == []


async def test_delete_many_drops_from_the_memory_cache_as_delete_does() -> None:
    """``stores.cache.delete_many`` drops memory entries without aiocache's layers
    (``drop_many``): the same namespaced keys, and the weight follows."""
    import stores.cache as module

    for namespace in ("omnistock", None):
        cache = BoundedMemoryCache(100, timeout=None, namespace=namespace)
        for key in ("stock:a", "stock:b", "stock:c"):
            await cache.set(key, 1, ttl=60)
        await module.delete_many(cache, ["stock:a", "stock:c", "stock:missing"])
        assert await cache.multi_get(["stock:a", "stock:b", "stock:c"]) == [None, 1, None]
        assert len(cache) == 1 and cache.weight == 1
        await cache.delete("stock:b")  # aiocache's own path agrees on the keys
        assert len(cache) == 0 and cache.weight == 0


def test_the_stores_an_entry_covers_survive_the_json_of_redis() -> None:
    from datetime import UTC, datetime

    from service.usecases.stock.reader import _decode, _encode

    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    entry = SkuStock("A", {"S1": (3, at)}, {"S1": [(1, None)]}, at, frozenset({"S1", "S2"}))
    assert _decode(_encode(entry)) == entry and _decode(_encode(entry)).stores == {"S1", "S2"}
    every = SkuStock("A", {}, {}, None, None)
    assert _decode(_encode(every)).stores is None
    legacy = _encode(every)
    del legacy["stores"]  # written before entries had stores: covers every store, as then
    assert _decode(legacy).stores is None
