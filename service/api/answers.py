"""Encoded answers of ``GET /v1/availability``, kept for a second and dropped on any change.

The product page asks the same question (one item, the same few stores) many times a second. An
answer is stored as the bytes sent, keyed by the query string, with the ``StockReader`` epoch
read before it was computed: it is served again only while (a) it is younger than
``OMNISTOCK_ANSWER_CACHE_S`` and (b) neither its SKU's stock (sync, refresh, a hold taken on any
replica: the same NOTIFY that drops the stock cache) nor any reference data changed since. (a)
bounds how late the ``stale`` flag and the read-through refresh can be; (b) keeps every change
visible as soon as the stock cache itself sees it.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict

from service.usecases.stock.reader import StockReader

MAX_ANSWER_BYTES = 16 * 1024  # larger answers (many stores) are not kept
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # then everything is dropped and the cache starts over

# What an entry costs besides its key and body objects (the SKU string is the item's, shared):
# the (expires, epoch, sku, body) tuple, its float and int, and the OrderedDict's hash slot,
# entry and linked-list node.
_ENTRY_OVERHEAD = sys.getsizeof((0.0, 0, "", b"")) + sys.getsizeof(0.0) + sys.getsizeof(2**40) + 120


def entry_cost(key: str, sku: str, body: bytes) -> int:
    """Bytes an entry really holds in memory (``sys.getsizeof`` of each object it keeps)."""
    return sys.getsizeof(key) + sys.getsizeof(body) + _ENTRY_OVERHEAD


class AnswerCache:
    """Bounded in the memory it really uses, whatever the callers send: a key is any query
    string (callers decide the key space), so the cache holds at most ``max_bytes`` (objects'
    real sizes, not their lengths), each answer at most ``max_answer_bytes``, and starts over
    when full. Expired entries are dropped as new ones come (entries expire in insertion
    order), not only when asked for again.

    A body is stored as a compact copy: orjson hands out a bytes object inside a 4 KiB
    allocation whatever its length (a 300-byte answer costs 4 KiB), so keeping it as given made
    the real footprint 7 to 10 times what was counted."""

    def __init__(
        self,
        reader: StockReader,
        ttl_s: float,
        max_bytes: int = MAX_TOTAL_BYTES,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.reader, self.ttl_s = reader, ttl_s
        self.max_bytes, self.max_answer_bytes = max_bytes, max_answer_bytes
        self._entries: OrderedDict[str, tuple[float, int, str, bytes]] = OrderedDict()
        self._bytes = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str) -> bytes | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        expires, epoch, sku, body = hit
        if expires < time.monotonic() or self.reader.changed_since(sku, epoch):
            self._drop(key)
            return None
        return body

    def put(self, key: str, epoch: int, sku: str, body: bytes) -> None:
        if not self.enabled or len(key) + len(body) > self.max_answer_bytes:
            return
        now = time.monotonic()
        self._drop(key)
        self._drop_expired(now)
        body = bytes(memoryview(body))  # a compact copy (see the class docstring)
        size = entry_cost(key, sku, body)
        if self._bytes + size > self.max_bytes:
            self._entries.clear()
            self._bytes = 0
        self._entries[key] = (now + self.ttl_s, epoch, sku, body)
        self._bytes += size

    def _drop(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= entry_cost(key, old[2], old[3])

    def _drop_expired(self, now: float) -> None:
        """Entries are kept in insertion order with one TTL: the expired ones are at the front."""
        entries = self._entries
        while entries:
            key, (expires, _, sku, body) = next(iter(entries.items()))
            if expires >= now:
                return
            entries.popitem(last=False)
            self._bytes -= entry_cost(key, sku, body)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
