"""A small in-process cache of verified API keys."""

from __future__ import annotations

from service.domain.apikeys import Principal
from service.usecases.ttl_cache import TtlCache

MAX_KEYS = 10_000


class KeyCache:
    """Verified keys for a few seconds, so a hot path does not hit PostgreSQL on every call.
    A key found wrong is remembered too (``None``): sent again, it costs no query either."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: TtlCache[tuple[Principal | None]] = TtlCache(ttl_s, size=MAX_KEYS)

    def get(self, key: str) -> tuple[bool, Principal | None]:
        """(known, principal): known is False when the key must be verified."""
        hit = self._entries.get(key)
        return (False, None) if hit is None else (True, hit[0])

    def put(self, key: str, principal: Principal | None) -> None:
        if self.ttl_s > 0:
            self._entries.put(key, (principal,))

    def clear(self) -> None:
        self._entries.clear()
