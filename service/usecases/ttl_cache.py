"""The one in-process map with a time to live of the use cases.

It holds the stock reader's resolved items and reference data, loyalty readings and e-mail
lookups, receipts and the customers and cards around them. It is bounded: beyond ``size``
entries the oldest written goes, so a process holds at most ``size`` values whatever the
traffic (an expired entry stays until it is overwritten or pushed out, never longer).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """A map whose entries live ``ttl_s`` seconds; beyond ``size`` the oldest written goes."""

    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        hit = self._items.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def get_many(self, keys: Iterable[Hashable]) -> list[V | None]:
        """``get`` of each key, with one reading of the clock (a matrix asks per line)."""
        now, items = time.monotonic(), self._items
        return [None if (hit := items.get(k)) is None or hit[0] <= now else hit[1] for k in keys]

    def put(self, key: Hashable, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (time.monotonic() + self.ttl_s, value)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
