"""A small in-process cache of verified API keys."""

from __future__ import annotations

import time

from service.domain.apikeys import Principal


class KeyCache:
    """Verified keys for a few seconds, so a hot path does not hit PostgreSQL on every call."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, key: str) -> tuple[bool, Principal | None]:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, key: str, principal: Principal | None) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, principal)

    def clear(self) -> None:
        self._entries.clear()
