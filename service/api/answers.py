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


class AnswerCache:
    def __init__(self, reader: StockReader, ttl_s: float, max_entries: int = 20_000) -> None:
        self.reader, self.ttl_s, self.max_entries = reader, ttl_s, max_entries
        self._entries: dict[str, tuple[float, int, str, bytes]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str) -> bytes | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        expires, epoch, sku, body = hit
        if expires < time.monotonic() or self.reader.changed_since(sku, epoch):
            self._entries.pop(key, None)
            return None
        return body

    def put(self, key: str, epoch: int, sku: str, body: bytes) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, epoch, sku, body)

    def __len__(self) -> int:
        return len(self._entries)
