"""The hot cache in front of PostgreSQL reads: aiocache, in memory or in Redis.

The cache only makes reads fast; losing it loses nothing. Keys come from one function. Values
are plain JSON-able data so that Redis and memory behave the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiocache import Cache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer, NullSerializer

NAMESPACE = "omnistock"  # Redis keys read "omnistock:stock:SKU"


def cache_key(kind: str, *parts: str) -> str:
    """The one place keys are made: ``kind:part:part``."""
    return ":".join((kind, *parts))


class BoundedMemoryCache(BaseCache):
    """This process's cache (aiocache's interface): values kept as they are (no copy, no
    encoding), expiry checked when read (no timer per entry), and a bound on what it really
    holds: the sum of its entries' weights (``weigh``; 1 each by default) stays at most
    ``max_weight``, the oldest written going first. A TTL alone bounds entries by the traffic of
    one TTL, which a crawl over the catalogue makes the whole catalogue in every store."""

    NAME = "memory"

    def __init__(
        self, max_weight: int, weigh: Callable[[Any], int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(serializer=NullSerializer(), **kwargs)
        self.max_weight = max_weight
        self._weigh = weigh or _one
        self._entries: dict[str, tuple[Any, float, int]] = {}  # key -> (value, expiry, weight)
        self.weight = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str, now: float) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            self._drop(key)
            return None
        return entry[0]

    def _drop(self, key: str) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self.weight -= entry[2]
        return True

    def _put(self, key: str, value: Any, ttl: float | None, now: float) -> None:
        self._drop(key)  # written again: now the newest
        weight = self._weigh(value)
        self._entries[key] = (value, now + ttl if ttl else math.inf, weight)
        self.weight += weight
        entries = self._entries
        while len(entries) > 1:  # the oldest first: expired ones, then past the bound
            oldest = next(iter(entries))
            if self.weight <= self.max_weight and entries[oldest][1] > now:
                break
            self._drop(oldest)

    def peek_many(self, keys: list[str]) -> list[Any]:
        """``multi_get`` without its coroutine layers: the same keys (``_build_key``: our
        namespace before each key), no serializer (values are kept as they are), no plugins
        and no timeout (this cache has neither). ``get_many`` calls it for every stock read;
        aiocache's path costs three Python calls per key (building it) and a few per call."""
        now, entries, ns = time.monotonic(), self._entries, self.namespace or ""
        values: list[Any] = []
        for key in keys:
            entry = entries.get(ns + key)
            if entry is None:
                values.append(None)
            elif entry[1] <= now:
                self._drop(ns + key)
                values.append(None)
            else:
                values.append(entry[0])
        return values

    def drop_many(self, keys: Iterable[str]) -> None:
        """``delete`` of each key without aiocache's coroutine layers (as ``peek_many``)."""
        ns = self.namespace or ""
        for key in keys:
            self._drop(ns + key)

    async def _get(self, key: str, encoding: str = "utf-8", _conn: Any = None) -> Any:
        return self._live(key, time.monotonic())

    async def _gets(self, key: str, encoding: str = "utf-8", _conn: Any = None) -> Any:
        return self._live(key, time.monotonic())

    async def _multi_get(self, keys: list[str], encoding: str = "utf-8", _conn: Any = None) -> Any:
        now = time.monotonic()
        return [self._live(key, now) for key in keys]

    async def _set(
        self, key: str, value: Any, ttl: Any = None, _cas_token: Any = None, _conn: Any = None
    ) -> Any:
        now = time.monotonic()
        if _cas_token is not None and _cas_token != self._live(key, now):
            return 0
        self._put(key, value, ttl, now)
        return True

    async def _multi_set(self, pairs: Any, ttl: Any = None, _conn: Any = None) -> Any:
        now = time.monotonic()
        for key, value in pairs:
            self._put(key, value, ttl, now)
        return True

    async def _add(self, key: str, value: Any, ttl: Any = None, _conn: Any = None) -> Any:
        now = time.monotonic()
        if self._live(key, now) is not None:
            raise ValueError(f"Key {key} already exists, use .set to update the value")
        self._put(key, value, ttl, now)
        return True

    async def _exists(self, key: str, _conn: Any = None) -> Any:
        return self._live(key, time.monotonic()) is not None

    async def _expire(self, key: str, ttl: Any, _conn: Any = None) -> Any:
        now = time.monotonic()
        value = self._live(key, now)
        if value is None:
            return False
        self._put(key, value, ttl, now)
        return True

    async def _delete(self, key: str, _conn: Any = None) -> Any:
        return 1 if self._drop(key) else 0

    async def _clear(self, namespace: str | None = None, _conn: Any = None) -> Any:
        for key in [k for k in self._entries if namespace is None or k.startswith(namespace)]:
            self._drop(key)
        return True

    async def _close(self, *args: Any, **kwargs: Any) -> None:
        pass


def _one(value: Any) -> int:
    return 1


def make_cache(
    redis_url: str | None, max_weight: int = 500_000, weigh: Callable[[Any], int] | None = None
) -> BaseCache:
    """Redis when a URL is given (shared by every replica; its own ``maxmemory`` policy bounds
    it), else this process's memory, its entries weighing at most ``max_weight`` (``weigh``)."""
    if redis_url:
        cache: BaseCache = Cache.from_url(redis_url)
        cache.serializer = JsonSerializer()
        cache.namespace = NAMESPACE
        return cache
    # no timeout: a memory operation never waits, and with one aiocache runs every call
    # through asyncio.wait_for (a task per call)
    return BoundedMemoryCache(max_weight, weigh, namespace=NAMESPACE, timeout=None)


async def get_many(cache: BaseCache, keys: list[str]) -> list[Any]:
    if not keys:
        return []
    if type(cache) is BoundedMemoryCache and not cache.plugins:
        return cache.peek_many(keys)
    return list(await cache.multi_get(keys))


async def delete_many(cache: BaseCache, keys: list[str]) -> None:
    if type(cache) is BoundedMemoryCache and not cache.plugins:
        cache.drop_many(keys)
        return
    for key in keys:
        await cache.delete(key)


async def set_many(cache: BaseCache, pairs: list[tuple[str, Any]], ttl: float) -> None:
    if pairs:
        await cache.multi_set(pairs, ttl=ttl)


async def clear_ours(cache: BaseCache) -> None:
    """Drop omnistock's entries only (a bare ``clear()`` would FLUSHDB a shared Redis)."""
    await cache.clear(namespace=NAMESPACE)
