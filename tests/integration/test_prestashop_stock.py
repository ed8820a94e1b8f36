"""The e-commerce store's stock pushed to PrestaShop's ``stock_availables`` through the outbox,
against the Cegid simulator and a local stand-in of PrestaShop's Webservice that checks the XML.

The simulator has no e-commerce store stock yet, so a physical store (S002) plays the
e-commerce store: the push is the same code for any store id.
"""

from __future__ import annotations

import asyncio
import base64
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from service.erp.simulator import SimulatorState
from service.observability import Metrics
from service.usecases.outbox.prestashop_stock import AGGREGATE, StockPushConfig
from service.usecases.outbox.relay import RelayDeps, relay_once
from service.usecases.stock import sync
from stores import items as items_repo
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import MakeDeps

state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps

KEY = "PSWSKEY0123456789"
WEB = "S002"
REQUIRED = {
    "id",
    "id_product",
    "id_product_attribute",
    "id_shop",
    "id_shop_group",
    "quantity",
    "depends_on_stock",
    "out_of_stock",
}


@dataclass
class Webservice:
    """PrestaShop's /api/stock_availables as far as the push uses it: filtered JSON reads and
    XML PUTs, Basic auth with the key as user; malformed XML is a 400 as PrestaShop answers."""

    url: str = ""
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    gets: int = 0
    puts: list[int] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer first

    def _authorised(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
        return request.headers.get("Authorization") == expected

    async def get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401, text="<prestashop><errors/></prestashop>")
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="busy")
        self.gets += 1
        assert request.query["display"] == "full"
        assert request.query["output_format"] == "JSON"
        wanted = request.query["filter[id_product]"]
        assert wanted.startswith("[") and wanted.endswith("]")
        products = {int(p) for p in wanted[1:-1].split("|")}
        found = [dict(r) for r in self.rows.values() if int(r["id_product"]) in products]
        return web.json_response({"stock_availables": found} if found else [])

    async def put(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="busy")
        assert request.content_type == "text/xml"
        row_id = int(request.match_info["id"])
        try:
            root = ET.fromstring(await request.read())
        except ET.ParseError as exc:
            return web.Response(status=400, text=f"XML: {exc}")
        resource = root.find("stock_available")
        if root.tag != "prestashop" or resource is None or len(root) != 1:
            return web.Response(status=400, text="expected <prestashop><stock_available>")
        fields = {child.tag: (child.text or "") for child in resource}
        missing = REQUIRED - set(fields)
        stored = self.rows.get(row_id)
        if missing or stored is None:
            return web.Response(status=400, text=f"missing {sorted(missing)} or unknown row")
        if int(fields["id"]) != row_id or any(
            fields[k] != str(stored[k]) for k in ("id_product", "id_product_attribute", "id_shop")
        ):
            return web.Response(status=400, text="a PUT may not move a stock_available")
        if not fields["quantity"].lstrip("-").isdigit():
            return web.Response(status=400, text="quantity must be an integer")
        stored.update(fields)
        stored["quantity"] = fields["quantity"]
        self.puts.append(row_id)
        return web.Response(status=200, text="<prestashop/>", content_type="text/xml")


@pytest.fixture
async def webservice() -> AsyncIterator[Webservice]:
    ws = Webservice()
    app = web.Application()
    app.router.add_get("/api/stock_availables", ws.get)
    app.router.add_put("/api/stock_availables/{id}", ws.put)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    ws.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield ws
    await runner.cleanup()


def push_config(ws: Webservice, batch: int = 5) -> StockPushConfig:
    return StockPushConfig(ws.url, KEY, WEB, batch=batch, timeout_s=5)


async def _settle(pool: asyncpg.Pool, deps: RelayDeps) -> None:
    for _ in range(50):
        await relay_once(deps)
        if not await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not settle")


async def _setup(
    pool: asyncpg.Pool, erp: Any, state: SimulatorState, ws: Webservice, push: StockPushConfig
) -> tuple[sync.SyncContext, list[str]]:
    """Items synced, PrestaShop keys on the first 6 SKUs, their stock_availables in the stand-in
    (one missing, one already right), then the full stock pass."""
    ctx = sync.SyncContext(pool=pool, erp=erp, metrics=Metrics(), stock_push=push)
    await sync.items_pass(ctx)
    skus = [item.sku for item in state.items]
    async with pool.acquire() as conn, conn.transaction():
        await items_repo.set_prestashop_keys(
            conn, [(sku, 10 + n // 2, n % 2 + 1, None) for n, sku in enumerate(skus[:6])]
        )
    index = {item.sku: n for n, item in enumerate(state.items)}
    for n, sku in enumerate(skus[:5]):  # skus[5] has no stock_available row
        right = state.available(WEB, index[sku]) if n == 0 else 999
        ws.rows[100 + n] = {
            "id": 100 + n,
            "id_product": 10 + n // 2,
            "id_product_attribute": n % 2 + 1,
            "id_shop": 1,
            "id_shop_group": 0,
            "quantity": right,
            "depends_on_stock": 0,
            "out_of_stock": 2,
            "location": "",
        }
    await sync.full_stock_pass(ctx)
    return ctx, skus


async def test_push_through_the_outbox_batched_and_idempotent(
    pool: asyncpg.Pool,
    erp: Any,
    state: SimulatorState,
    webservice: Webservice,
    make_deps: MakeDeps,
) -> None:
    push = push_config(webservice)
    ctx, skus = await _setup(pool, erp, state, webservice, push)
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE aggregate = $1 ORDER BY id", AGGREGATE
    )
    pushed = [sku for r in rows for sku in r["payload"]["skus"]]
    assert sorted(pushed) == sorted(skus), "every SKU of the e-commerce store, once"
    assert [len(r["payload"]["skus"]) for r in rows] == [5, 5, 2]

    metrics = Metrics()
    deps = make_deps(stock_push=push, metrics=metrics)
    await _settle(pool, deps)
    index = {item.sku: n for n, item in enumerate(state.items)}
    for n, sku in enumerate(skus[:5]):
        assert int(webservice.rows[100 + n]["quantity"]) == state.available(WEB, index[sku])
    assert sorted(webservice.puts) == [101, 102, 103, 104], "the right one is not rewritten"
    assert webservice.gets == 3, "one batched read per outbox row"
    sample = metrics.prestashop_stock_push.labels
    assert sample("updated")._value.get() == 4
    assert sample("unchanged")._value.get() == 1
    assert sample("missing")._value.get() == 1
    assert sample("unmapped")._value.get() == 6
    statuses = await pool.fetch("SELECT status FROM outbox WHERE aggregate = $1", AGGREGATE)
    assert {r["status"] for r in statuses} == {"done"}

    # Replaying every row changes nothing (absolute quantities read at delivery).
    await pool.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE aggregate = $1",
        AGGREGATE,
    )
    await _settle(pool, deps)
    assert sorted(webservice.puts) == [101, 102, 103, 104]

    # A sale of one SKU in the e-commerce store: one row, one PUT.
    state.set_on_hand(WEB, index[skus[2]], state.on_hand(WEB, index[skus[2]]) + 3)
    await sync.full_stock_pass(ctx)
    new = await pool.fetch(
        "SELECT payload FROM outbox WHERE aggregate = $1 AND status = 'pending'", AGGREGATE
    )
    assert [r["payload"]["skus"] for r in new] == [[skus[2]]]
    await _settle(pool, deps)
    assert webservice.puts[-1] == 102
    assert int(webservice.rows[102]["quantity"]) == state.available(WEB, index[skus[2]])


async def test_webservice_down_is_retried_refusal_is_dead(
    pool: asyncpg.Pool,
    erp: Any,
    state: SimulatorState,
    webservice: Webservice,
    make_deps: MakeDeps,
) -> None:
    push = push_config(webservice, batch=100)
    await _setup(pool, erp, state, webservice, push)
    webservice.answers = [503, 503]
    await _settle(pool, make_deps(stock_push=push))
    row = await pool.fetchrow("SELECT status, attempts FROM outbox WHERE aggregate = $1", AGGREGATE)
    assert row["status"] == "done" and row["attempts"] >= 2

    bad = StockPushConfig(webservice.url, "wrong-key", WEB, batch=100, timeout_s=5)
    await pool.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE aggregate = $1",
        AGGREGATE,
    )
    await _settle(pool, make_deps(stock_push=bad))
    row = await pool.fetchrow(
        "SELECT status, last_error FROM outbox WHERE aggregate = $1", AGGREGATE
    )
    assert row["status"] == "dead"
    assert "HTTP 401" in row["last_error"]


async def test_off_by_default_nothing_is_enqueued(
    pool: asyncpg.Pool, erp: Any, state: SimulatorState
) -> None:
    ctx = sync.SyncContext(pool=pool, erp=erp, metrics=Metrics())
    await sync.items_pass(ctx)
    await sync.full_stock_pass(ctx)
    assert not await pool.fetchval("SELECT count(*) FROM outbox WHERE aggregate = $1", AGGREGATE)
