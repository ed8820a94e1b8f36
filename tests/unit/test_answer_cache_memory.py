"""The availability answer cache bounds the memory it really uses (issue 18: it counted
``len(key) + len(body)`` while each orjson body held 4 KiB, and kept expired entries)."""

from __future__ import annotations

import gc
import time
import tracemalloc

import orjson

from service.api.answers import AnswerCache, entry_cost


class _Unchanged:
    """The stock reader as the cache sees it: nothing changed since any epoch."""

    def changed_since(self, sku: str, epoch: int) -> bool:
        return False


def _answer(i: int) -> bytes:
    return orjson.dumps(
        {
            "item": {"sku": "JEANS-32", "ean": "2000000000039", "ps_product_id": 103},
            "quantity": 1,
            "stores": [{"store_id": "PAR", "available": i % 50, "stale": False}],
        }
    )


def _traced_by(fill) -> tuple[int, int]:
    """Bytes allocated by ``fill`` and kept at its end, and at most during it."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        return current - before, peak - before
    finally:
        tracemalloc.stop()


def test_the_cache_holds_no_more_memory_than_its_cap() -> None:
    cap = 1024 * 1024
    cache = AnswerCache(_Unchanged(), ttl_s=600, max_bytes=cap)  # type: ignore[arg-type]

    def fill() -> None:
        for i in range(20_000):
            cache.put(f"sku=JEANS-32&store=PAR&n={i}", 1, "JEANS-32", _answer(i))

    traced, peak = _traced_by(fill)
    print(f"{len(cache)} entries, {cache.size_bytes} counted, {traced} traced, {peak} at most")
    assert len(cache) > 500
    assert peak <= cap * 1.1, f"{peak} bytes traced at most for a {cap}-byte cap"
    # and what it counts is what it holds (within the dict's own growth steps)
    assert cache.size_bytes <= cap and traced >= cache.size_bytes * 0.7


def test_expired_entries_are_dropped_without_being_asked_for() -> None:
    cache = AnswerCache(_Unchanged(), ttl_s=0.05)  # type: ignore[arg-type]
    for i in range(500):
        cache.put(f"n={i}", 1, "JEANS-32", _answer(i))
    assert len(cache) == 500
    time.sleep(0.06)
    cache.put("n=new", 1, "JEANS-32", _answer(0))
    assert len(cache) == 1
    assert cache.size_bytes == entry_cost("n=new", "JEANS-32", _answer(0))


def test_a_hit_answers_the_same_bytes() -> None:
    cache = AnswerCache(_Unchanged(), ttl_s=60)  # type: ignore[arg-type]
    body = _answer(7)
    cache.put("q", 1, "JEANS-32", body)
    assert cache.get("q") == body
