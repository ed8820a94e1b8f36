"""A real omnistock app for the console's browser tests: PostgreSQL, the Cegid simulator (its
stores, items and stock synced as in production), the API on a local port, keys of every role,
and helpers that act like the storefront and a second store device through the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest

from service.api.app import create_app
from service.demo import directory_entry
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import SimulatorState, generate, serve_simulator, store_directory
from service.observability import Metrics
from service.settings import Settings
from service.usecases.access.keys import create_key
from service.usecases.stock import sync
from stores import store_directory as directory_repo

USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"
NAMES = [("Ana", "Lopez"), ("Bruno", "Martin"), ("Chloé", "Durand"), ("David", "Petit")]


@dataclass
class Live:
    base: str
    pool: asyncpg.Pool
    state: SimulatorState
    store_a: str
    store_b: str
    keys: dict[str, str]
    key_ids: dict[str, str]
    http: aiohttp.ClientSession
    skus: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=dict
    )  # store -> sku,ean,label

    @property
    def console(self) -> str:
        return self.base + "/staff/"

    async def call(
        self, method: str, path: str, key: str = "staff", body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        h = {"Authorization": f"Bearer {self.keys[key]}", **headers}
        async with self.http.request(method, self.base + path, json=body, headers=h) as resp:
            data = await resp.json(content_type=None) if resp.status != 204 else None
            return resp.status, data

    async def create_pickup(
        self, n: int = 0, *, store: str | None = None, kind: str = "reservation"
    ) -> dict[str, Any]:
        """A pickup made by the storefront, as a shopper would (its code is in the answer)."""
        store = store or self.store_a
        first, last = NAMES[n % len(NAMES)]
        lines = [
            {"sku": sku, "quantity": 1 + (i % 2), "label": label}
            for i, (sku, _, label) in enumerate(self.skus[store][n % 3 : n % 3 + 2])
        ]
        body: dict[str, Any] = {
            "kind": kind,
            "store_id": store,
            "customer": {
                "email": f"{first.lower()}.{last.lower()}@example.com",
                "first_name": first,
                "last_name": last,
                "phone": "+33 6 12 34 56 78",
            },
            "lines": lines,
        }
        if kind == "order":
            body["ps_order_reference"] = "XKBKNABJK"
            for line in lines:
                line["unit_price"] = "19.90"
        status, data = await self.call(
            "POST", "/v1/pickups", "storefront", body, **{"Idempotency-Key": uuid.uuid4().hex}
        )
        assert status == 201, data
        return dict(data)

    async def state_of(self, pickup_id: str) -> str:
        return str(
            await self.pool.fetchval("SELECT state FROM pickups WHERE id = $1::uuid", pickup_id)
        )


@pytest.fixture(name="live")
async def live_fixture(
    pool: asyncpg.Pool, settings: Settings, aiohttp_server: Any
) -> AsyncIterator[Live]:
    state = generate(seed=11, stores=3, products=24)
    async with serve_simulator(state, database_id=DB_ID, users={USER: PASSWORD}) as sim_url:
        config = CegidConfig(
            base_url=sim_url, database_id=DB_ID, username=USER, password=PASSWORD, timeout_s=5
        )
        erp = await CegidErp.create(config)
        try:
            async with pool.acquire() as conn:
                for store in store_directory(state):
                    await directory_repo.upsert(conn, directory_entry(store))
            ctx = sync.SyncContext(pool=pool, erp=erp, metrics=Metrics(), page_size=100)
            await sync.items_pass(ctx)
            await sync.full_stock_pass(ctx)
            store_a, store_b = sorted(state.stores)[:2]
            keys, ids = {}, {}
            for name, role, stores, label in (
                ("storefront", "storefront", [], "prestashop"),
                ("staff", "staff", [store_a], "counter-tablet"),
                ("staff_b", "staff", [store_b], "other-store-tablet"),
                ("admin", "admin", [], "ops"),
            ):
                keys[name], record = await create_key(pool, role, stores, label)
                ids[name] = record.id
            app = create_app(settings, pool=pool, erp=erp)
            server = await aiohttp_server(app, host="127.0.0.1")
            async with aiohttp.ClientSession() as http:
                live = Live(
                    base=str(server.make_url("")).rstrip("/"),
                    pool=pool,
                    state=state,
                    store_a=store_a,
                    store_b=store_b,
                    keys=keys,
                    key_ids=ids,
                    http=http,
                )
                for store in (store_a, store_b):
                    live.skus[store] = [
                        (item.sku, item.ean, item.description)
                        for n, item in enumerate(state.items)
                        if state.available(store, n) > 4
                    ][:5]
                    assert len(live.skus[store]) == 5
                yield live
            await server.close()
        finally:
            await erp.aclose()
