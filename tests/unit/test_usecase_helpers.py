"""The use cases' shared helpers: page cursors, the TTL cache, single flight."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from service.errors import InvalidInput
from service.usecases import cursor
from service.usecases.single_flight import SingleFlight
from service.usecases.ttl_cache import TtlCache


# --------------------------------------------------------------------------- cursors
def test_a_cursor_round_trips_and_is_refused_by_another_list() -> None:
    token = cursor.encode("PAR-01", prefix="s1.")
    assert token.startswith("s1.") and "=" not in token
    assert cursor.decode(token, prefix="s1.") == "PAR-01"
    with pytest.raises(InvalidInput) as refused:
        cursor.decode(token, prefix="r1.")
    assert refused.value.extra["errors"][0]["loc"] == ["cursor"]


def test_parts_round_trip_and_cursors_already_handed_out_stay_valid() -> None:
    token = cursor.encode_parts(["2026-01-02T03:04:05+00:00", "abc"])
    assert cursor.decode_parts(token, 2) == ["2026-01-02T03:04:05+00:00", "abc"]
    # the pickups list used to write its JSON with spaces: such cursors still read
    old = base64.urlsafe_b64encode(json.dumps(["2026-01-02", "x"]).encode()).decode().rstrip("=")
    assert cursor.decode_parts(old, 2) == ["2026-01-02", "x"]


@pytest.mark.parametrize("token", ["garbage!", "W10", cursor.encode("[1, 2, 3]"), "e30"])
def test_anything_else_is_a_422_on_its_loc(token: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cursor.decode_parts(token, 2, loc=("query", "cursor"))
    assert refused.value.extra["errors"][0]["loc"] == ["query", "cursor"]


# --------------------------------------------------------------------------- TTL cache
def test_the_ttl_cache_holds_at_most_size_entries_oldest_out_first() -> None:
    cache: TtlCache[int] = TtlCache(60.0, size=3)
    for n in range(10):
        cache.put(f"k{n}", n)
    assert len(cache) == 3
    assert [cache.get(f"k{n}") for n in range(6, 10)] == [None, 7, 8, 9]
    cache.put("k7", 70)  # rewritten: now the newest
    cache.put("k10", 10)
    assert cache.get("k7") == 70 and cache.get("k8") is None


def test_the_ttl_cache_forgets_expired_entries() -> None:
    cache: TtlCache[str] = TtlCache(0.0)
    cache.put("a", "x")
    assert cache.get("a") is None
    cache.clear()
    assert len(cache) == 0


# --------------------------------------------------------------------------- single flight
async def test_concurrent_callers_of_a_key_share_one_call() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0
    gate = asyncio.Event()

    async def call() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 42

    waiters = [asyncio.create_task(flight.run("k", call, 5.0)) for _ in range(5)]
    await asyncio.sleep(0)
    assert flight.running("k") is not None
    gate.set()
    assert await asyncio.gather(*waiters) == [42] * 5
    assert calls == 1 and flight.running("k") is None


async def test_a_caller_stops_waiting_at_its_deadline_and_the_call_goes_on() -> None:
    flight: SingleFlight[str] = SingleFlight()
    gate = asyncio.Event()

    async def call() -> str:
        await gate.wait()
        return "late"

    with pytest.raises(TimeoutError):
        await flight.run("k", call, 0.01)
    task = flight.running("k")
    assert task is not None and not task.done()
    gate.set()
    assert await flight.run("k", call, 1.0) == "late"
    await flight.aclose()


async def test_a_batch_serves_each_of_its_keys_and_its_failure_is_retrieved() -> None:
    flight: SingleFlight[None] = SingleFlight()

    async def fail() -> None:
        raise ValueError("ERP away")

    task = flight.start(["a", "b"], fail)
    assert flight.running("a") is task and flight.running("b") is task
    with pytest.raises(ValueError):
        await task
    await asyncio.sleep(0)
    assert flight.running("a") is None and flight.running("b") is None
