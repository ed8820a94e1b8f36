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


def make_cache(redis_url: str | None) -> BaseCache:
    """Redis when a URL is given (shared by every replica), else this process's memory."""
    if redis_url:
        cache: BaseCache = Cache.from_url(redis_url)
        cache.serializer = JsonSerializer()
        cache.namespace = NAMESPACE
        return cache
    # objects as they are: no copy, no encoding; and no timeout: a memory operation never
    # waits, and with one aiocache runs every call through asyncio.wait_for (a task per call)
    return SimpleMemoryCache(namespace=NAMESPACE, timeout=None)


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
