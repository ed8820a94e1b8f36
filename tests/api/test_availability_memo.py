"""The line memo of POST /v1/availability: a line computed in the last second is reused (its
cells and their encoded bytes), never across a stock change, and its ``stale`` flags are at
most OMNISTOCK_ANSWER_CACHE_S late."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from service.api.appkeys import READER
from service.usecases.stock import availability as uc
from tests.api.stock_fixtures import ITEMS, add_hold, now, seed, set_stock
from tests.conftest import KeyFactory, bearer

BODY = {"lines": [{"sku": s} for s in ITEMS], "stores": ["PAR", "LYO", "MAR"]}


@pytest.fixture
async def key(pool, make_key: KeyFactory) -> str:
    await seed(pool)
    return await make_key("storefront")


async def _matrix(client, key: str) -> dict:
    resp = await client.post("/v1/availability", json=BODY, headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return await resp.json()


def _cell(answer: dict, sku: str, store: str) -> dict:
    line = next(x for x in answer["lines"] if x["item"]["sku"] == sku)
    return next(c for c in line["stores"] if c["store_id"] == store)


async def test_a_repeated_matrix_reuses_its_lines_and_answers_the_same(make_client, key) -> None:
    client = await make_client()
    reader = client.app[READER]
    first = await _matrix(client, key)
    memo = reader.line_memo
    assert isinstance(memo, uc._LineMemo) and memo.room == uc.MEMO_MAX_LINES - len(ITEMS)
    (states,) = memo.states.values()
    kept = {id(cells) for _, cells, _ in states.lines.values()}
    m = await uc.availability(
        reader,
        [uc.ItemLookup(s, None, None, None, None) for s in ITEMS],
        [1] * 3,
        store_ids=BODY["stores"],
    )
    assert all(line.kept and id(line.cells) in kept for line in m.lines)  # the same lists
    assert await _matrix(client, key) == first  # encoded from the kept bytes: the same answer


async def test_a_stock_change_or_a_hold_is_seen_at_once(make_client, key, pool) -> None:
    client = await make_client()
    assert _cell(await _matrix(client, key), "JEANS-32", "LYO")["available"] == 10
    await set_stock(pool, "LYO", "JEANS-32", 3)  # a new stock entry: not the kept one
    for _ in range(100):
        if _cell(await _matrix(client, key), "JEANS-32", "LYO")["available"] == 3:
            break
        await asyncio.sleep(0.05)
    answer = await _matrix(client, key)
    assert _cell(answer, "JEANS-32", "LYO")["available"] == 3
    assert _cell(answer, "JEANS-32", "PAR")["available"] == 10
    await add_hold(pool, "PAR", "JEANS-32", 4)
    await client.app[READER].invalidate(["JEANS-32"])  # as the hold's NOTIFY does
    assert _cell(await _matrix(client, key), "JEANS-32", "PAR")["available"] == 6


async def test_stale_flags_are_at_most_the_memo_s_span_late(make_client, key, pool) -> None:
    """A row turns stale while the memo is young: the memo still says fresh, for at most
    the memo's span (OMNISTOCK_ANSWER_CACHE_S); then the next request sees it stale."""
    client = await make_client(stale_after_s=60)
    reader = client.app[READER]
    await pool.execute(  # (the sync never moves a snapshot back: written here)
        "UPDATE stock SET as_of = $1 WHERE sku = 'JEANS-32' AND store_id = 'MAR'",
        now() - timedelta(seconds=59.8),
    )
    await reader.invalidate(["JEANS-32"])
    t0 = now()
    clock = [t0]
    reader.clock = lambda: clock[0]
    assert _cell(await _matrix(client, key), "JEANS-32", "MAR")["stale"] is False
    clock[0] = t0 + timedelta(seconds=0.5)  # the row is 60.3 s old now: stale by the rule
    assert _cell(await _matrix(client, key), "JEANS-32", "MAR")["stale"] is False  # memo
    clock[0] = t0 + timedelta(seconds=reader.settings.line_memo_s)
    assert _cell(await _matrix(client, key), "JEANS-32", "MAR")["stale"] is True
    clock[0] = t0 - timedelta(seconds=5)  # a clock that went back: a new memo too
    assert _cell(await _matrix(client, key), "JEANS-32", "MAR")["stale"] is False


async def test_the_memo_keeps_at_most_its_bound_of_lines(make_client, key, monkeypatch) -> None:
    monkeypatch.setattr(uc, "MEMO_MAX_LINES", 2)
    client = await make_client()
    first = await _matrix(client, key)
    memo = client.app[READER].line_memo
    assert isinstance(memo, uc._LineMemo) and memo.room == 0
    assert sum(len(s.lines) for s in memo.states.values()) == 2
    assert await _matrix(client, key) == first  # the third line is computed every time


async def test_no_memo_when_the_answer_cache_is_off(make_client, key) -> None:
    """OMNISTOCK_ANSWER_CACHE_S=0: every line is computed for every request, nothing kept."""
    client = await make_client(answer_cache_s=0)
    first = await _matrix(client, key)
    assert client.app[READER].line_memo is None
    assert await _matrix(client, key) == first


async def test_state_sets_past_the_bound_keep_no_line(make_client, key, monkeypatch) -> None:
    """Past MEMO_MAX_STATES, a request's state set is its own: its lines are not kept (nor
    their bytes), and the answer is the same."""
    monkeypatch.setattr(uc, "MEMO_MAX_STATES", 0)
    client = await make_client()
    reader = client.app[READER]
    first = await _matrix(client, key)
    memo = reader.line_memo
    assert isinstance(memo, uc._LineMemo)
    assert memo.states == {} and memo.room == uc.MEMO_MAX_LINES
    m = await uc.availability(
        reader,
        [uc.ItemLookup(s, None, None, None, None) for s in ITEMS],
        [1] * 3,
        store_ids=BODY["stores"],
    )
    assert not any(line.kept for line in m.lines)
    assert await _matrix(client, key) == first
