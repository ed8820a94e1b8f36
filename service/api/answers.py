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

import time

from service.usecases.stock_reader import StockReader

MAX_ANSWER_BYTES = 16 * 1024  # larger answers (many stores) are not kept
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # then everything is dropped and the cache starts over


class AnswerCache:
    """Bounded in bytes, whatever the callers send: a key is any query string (callers decide
    the key space), so the cache holds at most ``MAX_TOTAL_BYTES`` of answers, each at most
    ``MAX_ANSWER_BYTES``, and starts over when full (expired entries go with the rest)."""

    def __init__(
        self,
        reader: StockReader,
        ttl_s: float,
        max_bytes: int = MAX_TOTAL_BYTES,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.reader, self.ttl_s = reader, ttl_s
        self.max_bytes, self.max_answer_bytes = max_bytes, max_answer_bytes
        self._entries: dict[str, tuple[float, int, str, bytes]] = {}
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
            if self._entries.pop(key, None) is not None:
                self._bytes -= len(key) + len(body)
            return None
        return body

    def put(self, key: str, epoch: int, sku: str, body: bytes) -> None:
        size = len(key) + len(body)
        if not self.enabled or size > self.max_answer_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(key) + len(old[3])
        if self._bytes + size > self.max_bytes:
            self._entries.clear()
            self._bytes = 0
        self._entries[key] = (time.monotonic() + self.ttl_s, epoch, sku, body)
        self._bytes += size

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
