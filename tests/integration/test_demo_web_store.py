"""The demo's e-commerce store: the simulator's demo tenant has it (web price list, web warehouse
stock), the demo's directory knows it as a store without services or position, and the sync
brings its prices in, so that the storefront's main path (web prices, a web basket) answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest

from service.demo import demo_tenant, directory_entry, import_directory
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import SimulatorState, serve_simulator, store_directory
from service.observability import Metrics
from service.settings import Settings
from service.usecases.stock import sync
from service.workers.jobs import sync_context
from stores import store_directory as directory_repo
from tests.conftest import bearer

USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"
WEB = "WEB"
PARIS = "48.8566,2.3522"


@pytest.fixture
def state(settings: Settings) -> SimulatorState:
    return demo_tenant(settings, stores=3, products=60)


@pytest.fixture
async def erp(state: SimulatorState) -> AsyncIterator[CegidErp]:
    async with serve_simulator(state, database_id=DB_ID, users={USER: PASSWORD}) as url:
        config = CegidConfig(
            base_url=url, database_id=DB_ID, username=USER, password=PASSWORD, retries=0
        )
        adapter = await CegidErp.create(config)
        yield adapter
        await adapter.aclose()


async def _first_sync(settings: Settings, pool: asyncpg.Pool, erp: CegidErp) -> list[str]:
    """The demo's first sync, through the settings' sync context (the worker's)."""
    ctx = sync_context(settings, pool, erp, Metrics())
    passes = (sync.items_pass, sync.full_stock_pass, sync.prices_pass)
    return [(await step(ctx)).summary() for step in passes]


@pytest.fixture
async def demo(
    state: SimulatorState, pool: asyncpg.Pool, erp: CegidErp, settings: Settings
) -> SimulatorState:
    """As ``omnistock demo`` does it: the directory imported from the simulator, a first sync."""
    await import_directory(pool, state)
    await _first_sync(settings, pool, erp)
    return state


def _web_markdown(state: SimulatorState) -> int:
    """An item marked down online and not in the first shop (so the price lists differ)."""
    return next(
        i
        for (store, i) in sorted(state.markdowns)
        if store == WEB and ("S001", i) not in state.markdowns
    )


async def test_web_prices_and_a_web_basket_answer_200(make_client, make_key, demo) -> None:
    state = demo
    client = await make_client()
    key = bearer(await make_key("storefront"))
    marked = _web_markdown(state)
    plain = next(i for i in range(len(state.items)) if (WEB, i) not in state.markdowns)
    base, current, reason = state.price(WEB, marked)
    assert current < base and reason and state.price("S001", marked)[1] == base

    item = state.items[marked]
    resp = await client.get(f"/v1/prices?sku={item.sku}&store={WEB}", headers=key)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["store_id"] == WEB and body["currency"] == "EUR"
    assert (Decimal(body["base_price"]), Decimal(body["current_price"])) == (base, current)
    assert body["markdown"]["reason"] == reason

    lines = [
        {"sku": item.sku, "quantity": 2},
        {"ean": state.items[plain].ean, "quantity": 1},
    ]
    resp = await client.post(
        "/v1/baskets/price", json={"channel": "web", "lines": lines}, headers=key
    )
    assert resp.status == 200, await resp.text()
    basket = await resp.json()
    assert basket["price_list"] == WEB and basket["store_id"] is None
    priced = [Decimal(line["unit_current_price"]) for line in basket["lines"]]
    assert priced == [current, state.items[plain].base_price]


async def test_the_web_store_is_not_offered_for_pickup(make_client, make_key, demo, pool) -> None:
    state = demo
    client = await make_client()
    key = bearer(await make_key("storefront"))
    item = next(i for i in range(len(state.items)) if state.available(WEB, i) > 3)
    sku = state.items[item].sku

    near = await (await client.get(f"/v1/stores?near={PARIS}", headers=key)).json()
    assert [s["store_id"] for s in near["items"]] == ["S001", "S002", "S003"]  # not WEB
    url = f"/v1/availability?sku={sku}&near={PARIS}&radius_km=1000"
    resp = await client.get(url, headers=key)
    assert resp.status == 200, await resp.text()
    assert {c["store_id"] for c in (await resp.json())["stores"]} == {"S001", "S002", "S003"}

    web = await (await client.get(f"/v1/stores/{WEB}", headers=key)).json()
    assert web["services"] == [] and web["latitude"] is None and web["longitude"] is None
    resp = await client.get(f"/v1/availability?sku={sku}&store={WEB}", headers=key)
    assert resp.status == 200, await resp.text()
    (cell,) = (await resp.json())["stores"]
    assert cell["available"] == state.available(WEB, item)  # the web warehouse's stock
    assert cell["offered_for_pickup"] is False and cell["enough"] is False

    for kind, line in (("reservation", {}), ("order", {"unit_price": "19.99"})):
        pickup = {
            "kind": kind,
            "store_id": WEB,
            "customer": {"email": "ana@example.com"},
            "lines": [{"sku": sku, "quantity": 1, **line}],
        }
        headers = {**key, "Idempotency-Key": f"web-{kind}"}
        resp = await client.post("/v1/pickups", json=pickup, headers=headers)
        assert resp.status == 409, await resp.text()
        assert (await resp.json())["services"] == []
    assert await pool.fetchval("SELECT count(*) FROM pickups") == 0
    assert await pool.fetchval("SELECT count(*) FROM stock_holds") == 0


async def test_the_web_price_list_syncs_without_a_directory_row(
    state: SimulatorState, pool: asyncpg.Pool, erp: CegidErp, settings: Settings
) -> None:
    """A tenant whose directory lists only the shops still gets the web price list."""
    async with pool.acquire() as conn:
        for store in store_directory(state):
            if not store["ecommerce"]:
                await directory_repo.upsert(conn, directory_entry(store))
    await _first_sync(settings, pool, erp)
    rows = await pool.fetch("SELECT sku, current_price FROM store_prices WHERE store_id = $1", WEB)
    assert len(rows) == len(state.items)
    expected = {it.sku: state.price(WEB, i)[1] for i, it in enumerate(state.items)}
    assert {r["sku"]: r["current_price"] for r in rows} == expected
