"""Fixtures of the outbox tests: the Cegid simulator, the adapter on it, relay dependencies, and
pickups written straight into PostgreSQL with their 'pickup.created' outbox row (the pickup use
cases write the same rows through the API)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import SimulatorState, generate, serve_simulator
from service.observability import Metrics
from service.usecases.outbox.relay import RelayDeps
from stores import outbox as outbox_repo
from stores import store_directory as directory_repo

USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"
CREATE = "SaleDocumentService.Create"
RESERVE = "SaleDocumentService.CustomersReservationCreate"
UPDATE = "SaleDocumentService.UpdateHeader"


@pytest.fixture
def state() -> SimulatorState:
    return generate(seed=5, stores=3, products=12, customers=10)


@pytest.fixture
async def sim_url(state: SimulatorState) -> AsyncIterator[str]:
    async with serve_simulator(state, database_id=DB_ID, users={USER: PASSWORD}) as url:
        yield url


def erp_config(url: str, **overrides: Any) -> CegidConfig:
    values: dict[str, Any] = dict(
        base_url=url,
        database_id=DB_ID,
        username=USER,
        password=PASSWORD,
        timeout_s=5,
        retries=0,  # the relay's own retries are under test
        circuit_failure_threshold=10_000,
    )
    values.update(overrides)
    return CegidConfig(**values)


@pytest.fixture
async def erp(sim_url: str) -> AsyncIterator[CegidErp]:
    client = await CegidErp.create(erp_config(sim_url))
    yield client
    await client.aclose()


MakeDeps = Callable[..., RelayDeps]


@pytest.fixture
def make_deps(pool: asyncpg.Pool, erp: CegidErp) -> MakeDeps:
    def make(**overrides: Any) -> RelayDeps:
        values: dict[str, Any] = dict(
            pool=pool,
            erp=erp,
            metrics=Metrics(),
            backoff_base_s=0.001,
            backoff_max_s=0.002,
            concurrency=4,
        )
        values.update(overrides)
        return RelayDeps(**values)

    return make


# ------------------------------------------------------------------------- simulator control
async def sim_get(url: str, path: str) -> Any:
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{url}/_sim/{path}")
        resp.raise_for_status()
        return resp.json()


async def add_fault(url: str, **rule: Any) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{url}/_sim/faults", json=rule)
        assert resp.status_code == 201, resp.text


async def clear_faults(url: str) -> None:
    async with httpx.AsyncClient() as http:
        (await http.delete(f"{url}/_sim/faults")).raise_for_status()


async def documents(url: str) -> dict[str, dict[str, Any]]:
    """The simulator's documents by internal reference (a duplicate fails the test)."""
    docs = await sim_get(url, "documents")
    refs = [d["internal_reference"] for d in docs]
    assert len(refs) == len(set(refs)), f"duplicate documents: {refs}"
    return {d["internal_reference"]: d for d in docs}


async def calls(url: str, operation: str) -> int:
    return int((await sim_get(url, "calls")).get(operation, 0))


# ------------------------------------------------------------------------- pickups
_PICKUP = """
INSERT INTO pickups (id, kind, state, store_id, customer, ps_order_reference, payment_status,
                     code_hash, code_salt, deadline)
VALUES ($1, $2, 'confirmed', $3, $4::text::jsonb, $5, $6, '\\x00', '\\x00', $7)
"""
_LINE = """
INSERT INTO pickup_lines (pickup_id, line_no, sku, ean, quantity, unit_price, label)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_HOLD = "INSERT INTO stock_holds (pickup_id, store_id, sku, qty) VALUES ($1, $2, $3, $4)"


def created_payload(
    pickup_id: uuid.UUID,
    kind: str,
    store_id: str,
    lines: Sequence[dict[str, Any]],
    customer: dict[str, Any],
    reference: str,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "pickup_id": str(pickup_id),
        "kind": kind,
        "store_id": store_id,
        "customer": customer,
        "currency": "EUR",
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(hours=48)).isoformat(),
        "external_reference": reference,
        "paid": kind == "order",
        "lines": list(lines),
    }


async def new_pickup(
    pool: asyncpg.Pool,
    state: SimulatorState,
    *,
    kind: str = "order",
    items: Sequence[tuple[int, int]] = ((0, 1),),
    store_index: int = 0,
    email: str = "",
    erp_customer_id: str | None = None,
    sku_override: str | None = None,
    customer: dict[str, Any] | None = None,
) -> uuid.UUID:
    """A confirmed pickup holding ``items`` (item index, quantity), with its 'created' row."""
    pickup_id = uuid.uuid4()
    store_id = sorted(state.stores)[store_index]
    customer = {
        "email": email,
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "",
        "erp_customer_id": erp_customer_id,
    } | (customer or {})
    lines = [
        {
            "sku": sku_override or state.items[i].sku,
            "ean": None if sku_override else state.items[i].ean,
            "quantity": qty,
            "unit_price": "12.50" if kind == "order" else None,
            "label": state.items[i].description,
        }
        for i, qty in items
    ]
    reference = f"PS{pickup_id.hex[:8].upper()}" if kind == "order" else ""
    payload = created_payload(pickup_id, kind, store_id, lines, customer, reference)
    deadline = datetime.now(UTC) + timedelta(hours=48)
    async with pool.acquire() as conn, conn.transaction():
        await directory_repo.upsert(conn, {"store_id": store_id})
        paid = "paid" if kind == "order" else "pending"
        await conn.execute(
            _PICKUP, pickup_id, kind, store_id, json.dumps(customer), reference, paid, deadline
        )
        for n, line in enumerate(lines, 1):
            price = line["unit_price"]
            values = (line["sku"], line["ean"], line["quantity"], price and Decimal(price))
            await conn.execute(_LINE, pickup_id, n, *values, line["label"])
            await conn.execute(_HOLD, pickup_id, store_id, line["sku"], line["quantity"])
        await outbox_repo.append(conn, "pickup", str(pickup_id), "pickup.created", payload)
    return pickup_id


async def add_event(pool: asyncpg.Pool, pickup_id: uuid.UUID, kind: str) -> int:
    payload = {"pickup_id": str(pickup_id), "at": datetime.now(UTC).isoformat()}
    async with pool.acquire() as conn:
        return await outbox_repo.append(conn, "pickup", str(pickup_id), kind, payload)


async def outbox_rows(pool: asyncpg.Pool, pickup_id: uuid.UUID | None = None) -> list[Any]:
    query = "SELECT * FROM outbox WHERE $1::text IS NULL OR aggregate_id = $1 ORDER BY id"
    return list(await pool.fetch(query, None if pickup_id is None else str(pickup_id)))


async def drain(run: Callable[[], Awaitable[int]], rounds: int = 20) -> int:
    """Run the relay until a run finds nothing due; the rows handled."""
    total = 0
    for _ in range(rounds):
        handled = await run()
        if handled == 0:
            return total
        total += handled
    raise AssertionError(f"the outbox did not drain in {rounds} runs")
