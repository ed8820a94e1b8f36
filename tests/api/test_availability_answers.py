"""The encoded-answer cache of GET /v1/availability: reused only while nothing it read changed."""

from __future__ import annotations

import asyncio

import pytest

from service.api.answers import AnswerCache
from service.api.appkeys import ANSWERS, READER
from tests.api.stock_fixtures import add_hold, seed, set_stock
from tests.conftest import KeyFactory, bearer

Q = "sku=JEANS-32&store=PAR"


@pytest.fixture
async def key(pool, make_key: KeyFactory) -> str:
    await seed(pool)
    return await make_key("storefront")


async def _available(client, key: str, query: str = Q) -> int:
    resp = await client.get(f"/v1/availability?{query}", headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["stores"][0]["available"]


async def _until(client, key: str, want: int, query: str = Q) -> int:
    """Poll until the answer is ``want`` (NOTIFY travels through PostgreSQL), at most 5 s."""
    got = -1
    for _ in range(100):
        got = await _available(client, key, query)
        if got == want:
            break
        await asyncio.sleep(0.05)
    return got


async def test_a_repeated_question_is_answered_from_the_cache(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=60)
    assert await _available(client, key) == 10
    assert len(client.app[ANSWERS]) == 1
    # a write nobody announces (no NOTIFY) is not seen: the cached answer is served
    await pool.execute("UPDATE stock SET erp_available = 4 WHERE sku = 'JEANS-32'")
    await client.app[READER].cache.clear()  # only the answer cache can still say 10
    assert await _available(client, key) == 10
    # another question is computed afresh
    assert await _available(client, key, "sku=JEANS-32&store=PAR&store=LYO") == 4


async def test_a_stock_change_from_the_sync_is_seen_at_once(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=60)
    assert await _available(client, key) == 10
    await set_stock(pool, "PAR", "JEANS-32", 3)  # writes and NOTIFYs, like the sync
    assert await _until(client, key, 3) == 3


async def test_a_hold_taken_on_another_replica_is_seen(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=60)
    other = await make_client(answer_cache_s=60)  # a second replica on the same database
    assert await _available(client, key) == 10
    assert await _available(other, key) == 10
    await add_hold(pool, "PAR", "JEANS-32", 4)
    await pool.execute("SELECT pg_notify('omnistock_stock', '[\"JEANS-32\"]')")
    assert await _until(client, key, 6) == 6
    assert await _until(other, key, 6) == 6


async def test_other_skus_keep_their_answers(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=60)
    tshirt = "sku=TSHIRT-RED-M&store=PAR"
    assert await _available(client, key, tshirt) == 10
    await pool.execute("UPDATE stock SET erp_available = 1 WHERE sku = 'TSHIRT-RED-M'")
    await client.app[READER].invalidate(["JEANS-32"])
    assert await _available(client, key, tshirt) == 10  # its SKU did not change


async def test_answers_expire(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=0.2)
    assert await _available(client, key) == 10
    await pool.execute("UPDATE stock SET erp_available = 4 WHERE sku = 'JEANS-32'")
    await client.app[READER].cache.clear()  # only the answer cache is left in the way
    assert await _available(client, key) == 10
    await asyncio.sleep(0.3)
    assert await _available(client, key) == 4


async def test_zero_turns_it_off(make_client, key, pool) -> None:
    client = await make_client(answer_cache_s=0)
    assert await _available(client, key) == 10
    assert len(client.app[ANSWERS]) == 0


async def test_reference_changes_drop_every_answer(make_client, key) -> None:
    client = await make_client(answer_cache_s=60)
    assert await _available(client, key) == 10
    client.app[READER].forget_reference()
    assert client.app[ANSWERS].get(Q) is None


async def test_an_answer_computed_across_a_change_is_not_served(make_client, key) -> None:
    """The epoch is read before computing: a change during the computation makes it old."""
    client = await make_client(answer_cache_s=60)
    reader = client.app[READER]
    answers = AnswerCache(reader, 60)
    epoch = reader.epoch
    await reader.invalidate(["JEANS-32"])  # lands while the answer is being computed
    answers.put(Q, epoch, "JEANS-32", b"{}")
    assert answers.get(Q) is None
    answers.put(Q, reader.epoch, "JEANS-32", b"{}")
    assert answers.get(Q) == b"{}"
    await reader.invalidate_all()  # a lost listener: everything may have changed
    assert answers.get(Q) is None


async def test_errors_are_not_cached(make_client, key) -> None:
    client = await make_client(answer_cache_s=60)
    resp = await client.get("/v1/availability?sku=NOPE&store=PAR", headers=bearer(key))
    assert resp.status == 404
    assert len(client.app[ANSWERS]) == 0


async def test_the_cache_is_bounded_in_bytes_whatever_the_queries(make_client, key) -> None:
    client = await make_client(answer_cache_s=60)
    answers = client.app[ANSWERS]
    answers.max_bytes = 4_000  # a few answers' worth
    for n in range(40):  # unknown parameters make new keys for the same answer
        assert await _available(client, key, f"{Q}&junk={n}") == 10
        assert answers.size_bytes <= 4_000
    assert 0 < len(answers) < 40
    big = AnswerCache(client.app[READER], 60, max_answer_bytes=100)
    big.put("k", 0, "JEANS-32", b"x" * 200)  # larger than one answer may be: not kept
    assert len(big) == 0 and big.size_bytes == 0


async def test_a_read_overtaken_by_a_change_is_not_cached(make_client, key, monkeypatch) -> None:
    """A NOTIFY that lands while the stock is read from PostgreSQL: what was read may predate
    the change, so it answers this request but is not kept for the next ones."""
    from stores import availability_reads
    from stores.cache import cache_key

    client = await make_client(answer_cache_s=60)
    reader = client.app[READER]
    real = availability_reads.load_sku_stock

    async def overtaken(conn, skus, stores=None):
        loaded = await real(conn, skus, stores)
        await reader.invalidate(skus)  # the change's NOTIFY, heard mid-read
        return loaded

    monkeypatch.setattr(availability_reads, "load_sku_stock", overtaken)
    assert await _available(client, key) == 10
    assert await reader.cache.get(cache_key("stock", "JEANS-32")) is None
    assert len(client.app[ANSWERS]) == 0 or client.app[ANSWERS].get(Q) is None
    monkeypatch.setattr(availability_reads, "load_sku_stock", real)
    assert await _available(client, key) == 10
    assert await reader.cache.get(cache_key("stock", "JEANS-32")) is not None


# ------------------------------------------------------- a pickup created here or elsewhere
def _reserve(quantity: int) -> dict:
    return {
        "kind": "reservation",
        "store_id": "PAR",
        "customer": {"email": "ana@example.com", "first_name": "Ana"},
        "lines": [{"sku": "JEANS-32", "quantity": quantity}],
    }


async def test_a_pickup_created_here_is_seen_here_at_once_and_on_other_replicas(
    make_client, key, pool
) -> None:
    """The creating replica drops its own entries when the creation commits (no NOTIFY to
    wait for); the others hear of it in the next batched NOTIFY, within milliseconds."""
    here = await make_client(answer_cache_s=60)
    other = await make_client(answer_cache_s=60)
    assert await _available(here, key) == 10
    assert await _available(other, key) == 10
    headers = {**bearer(key), "Idempotency-Key": "replicas-1"}
    resp = await here.post("/v1/pickups", json=_reserve(3), headers=headers)
    assert resp.status == 201, await resp.text()
    assert await _available(here, key) == 7  # at once: no poll
    assert await _until(other, key, 7) == 7
    assert here.app[READER].announcer.sent >= 1
    # a replay takes no new hold: nothing to announce, nothing dropped
    sent = here.app[READER].announcer.sent
    again = await here.post("/v1/pickups", json=_reserve(3), headers=headers)
    assert again.status == 201
    await asyncio.sleep(0.1)
    assert here.app[READER].announcer.sent == sent
    assert await _available(other, key) == 7


async def test_many_creations_are_announced_in_few_notifications(make_client, key, pool) -> None:
    here = await make_client(answer_cache_s=60)
    other = await make_client(answer_cache_s=60)
    assert await _available(other, key) == 10
    posts = [
        here.post(
            "/v1/pickups", json=_reserve(1), headers={**bearer(key), "Idempotency-Key": f"b{n}"}
        )
        for n in range(6)
    ]
    assert [r.status for r in await asyncio.gather(*posts)] == [201] * 6
    assert await _until(other, key, 4) == 4
    assert 1 <= here.app[READER].announcer.sent < 6
