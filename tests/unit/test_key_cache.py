"""The cache of verified API keys: keyed by the Authorization header, bounded in what it holds."""

from __future__ import annotations

import time

from service.api.keycache import MAX_HEADER_CHARS, MAX_KEYS, MISS, KeyCache
from service.domain.apikeys import Principal

ADMIN = Principal("k1", "admin")


def test_a_header_is_known_until_its_ttl_and_a_refusal_is_remembered() -> None:
    cache = KeyCache(ttl_s=60)
    assert cache.known("Bearer osk_a") is MISS
    cache.put("Bearer osk_a", ADMIN)
    cache.put("Bearer osk_wrong", None)
    assert cache.known("Bearer osk_a") == ADMIN
    assert cache.known("Bearer osk_wrong") is None  # refused, without a query next time
    assert cache.known("bearer osk_a") is MISS  # another spelling: verified on its own
    expires, principal = cache.entry("Bearer osk_a")  # type: ignore[misc]
    assert principal == ADMIN and expires > time.monotonic()


def test_expired_and_cleared_entries_are_unknown() -> None:
    cache = KeyCache(ttl_s=0.01)
    cache.put("Bearer osk_a", ADMIN)
    time.sleep(0.02)
    assert cache.known("Bearer osk_a") is MISS
    cache = KeyCache(ttl_s=60)
    cache.put("Bearer osk_a", ADMIN)
    cache.clear()
    assert cache.known("Bearer osk_a") is MISS
    assert cache.entry("Bearer osk_a") is None  # the edge's lookup sees the same dict


def test_a_zero_ttl_keeps_nothing() -> None:
    cache = KeyCache(ttl_s=0)
    cache.put("Bearer osk_a", ADMIN)
    assert len(cache) == 0


def test_it_holds_at_most_max_keys_headers_of_bounded_length() -> None:
    cache = KeyCache(ttl_s=60)
    cache.put("Bearer " + "x" * MAX_HEADER_CHARS, None)  # longer than any key: not kept
    assert len(cache) == 0
    for n in range(MAX_KEYS + 50):
        cache.put(f"Bearer osk_{n}", None)
    assert len(cache) == MAX_KEYS
    assert cache.known("Bearer osk_0") is MISS  # the oldest went first
    assert cache.known(f"Bearer osk_{MAX_KEYS + 49}") is None
