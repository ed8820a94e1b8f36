"""A small in-process cache of verified API keys, looked up by the ``Authorization`` header."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Final

from service.domain.apikeys import Principal

MAX_KEYS = 10_000
# Longer headers are verified every time instead of being kept: our keys are 47 characters
# (``osk_`` and 32 random bytes), so these are never valid, and the cache then holds at most
# MAX_KEYS headers of at most this many characters, whatever callers send.
MAX_HEADER_CHARS = 256


class Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS: Final = Miss()  # ``KeyCache.known``: this header must be verified


class KeyCache:
    """Verified keys for a few seconds, so a hot path does not hit PostgreSQL on every call.
    A key found wrong is remembered too (``None``): sent again, it costs no query either.

    Keyed by the whole ``Authorization`` header as sent (``Bearer <key>``), so that a known
    caller costs one dictionary lookup: no parsing of the header, no second call. The same key
    written another way (``bearer``, extra spaces) is another entry that maps to the same
    principal."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        # (expires on time.monotonic(), principal) of a header, or None: ``known`` for the
        # edge's hot path, without a Python-level call
        self.entry = self._entries.get

    def known(self, header: str) -> Principal | Miss | None:
        """The principal of a header verified within ``ttl_s`` (None: refused), else MISS."""
        hit = self._entries.get(header)
        if hit is None or hit[0] <= time.monotonic():
            return MISS
        return hit[1]

    def put(self, header: str, principal: Principal | None) -> None:
        if self.ttl_s <= 0 or len(header) > MAX_HEADER_CHARS:
            return
        entries = self._entries
        entries.pop(header, None)
        entries[header] = (time.monotonic() + self.ttl_s, principal)
        while len(entries) > MAX_KEYS:
            entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
