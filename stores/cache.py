"""The hot cache in front of PostgreSQL reads: aiocache, in memory or in Redis.

The cache only makes reads fast; losing it loses nothing. Keys come from one function. Values
are plain JSON-able data so that Redis and memory behave the same.
"""

from __future__ import annotations

from typing import Any

from aiocache import Cache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer

NAMESPACE = "omnistock"  # Redis keys read "omnistock:stock:SKU"


def cache_key(kind: str, *parts: str) -> str:
    """The one place keys are made: ``kind:part:part``."""
    return ":".join((kind, *parts))


class BoundedMemoryCache(SimpleMemoryCache):
    """aiocache's memory cache holding at most ``max_entries``: past it, a new entry drops the
    oldest stored (insertion order). The TTL alone bounds entries by the traffic of one TTL, which
    a crawl over the whole catalogue makes the whole catalogue."""

    def __init__(self, max_entries: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_entries = max_entries

    async def _set(
        self, key: str, value: Any, ttl: Any = None, _cas_token: Any = None, _conn: Any = None
    ) -> Any:
        done = await super()._set(key, value, ttl=ttl, _cas_token=_cas_token, _conn=_conn)
        store = self._cache
        while len(store) > self.max_entries:
            await self._delete(next(iter(store)))
        return done


def make_cache(redis_url: str | None, max_entries: int = 50_000) -> BaseCache:
    """Redis when a URL is given (shared by every replica; its own ``maxmemory`` policy bounds
    it), else this process's memory, at most ``max_entries`` entries."""
    if redis_url:
        cache: BaseCache = Cache.from_url(redis_url)
        cache.serializer = JsonSerializer()
        cache.namespace = NAMESPACE
        return cache
    # objects as they are: no copy, no encoding; and no timeout: a memory operation never
    # waits, and with one aiocache runs every call through asyncio.wait_for (a task per call)
    return BoundedMemoryCache(max_entries, namespace=NAMESPACE, timeout=None)


async def get_many(cache: BaseCache, keys: list[str]) -> list[Any]:
    if not keys:
        return []
    return list(await cache.multi_get(keys))


async def set_many(cache: BaseCache, pairs: list[tuple[str, Any]], ttl: float) -> None:
    if pairs:
        await cache.multi_set(pairs, ttl=ttl)


async def clear_ours(cache: BaseCache) -> None:
    """Drop omnistock's entries only (a bare ``clear()`` would FLUSHDB a shared Redis)."""
    await cache.clear(namespace=NAMESPACE)
