"""Web customers in Cegid: the relay links or creates exactly one Cegid customer per shopper, even
with two relays posting first orders of one e-mail at once and when the ERP drops the connection
after creating the customer; changed details are sent with UpdateCustomer."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import asyncpg

from service.erp.cegid import CegidErp
from service.erp.simulator import SimulatorState
from service.usecases.outbox.relay import relay_once
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import (
    MakeDeps,
    add_fault,
    calls,
    documents,
    erp_config,
    new_pickup,
    outbox_rows,
)

state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps
ADD = "CustomerWcfService.AddNewCustomer"
SEARCH = "CustomerWcfService.SearchCustomerIds"
UPDATE = "CustomerWcfService.UpdateCustomer"


def sim_customers(state: SimulatorState, email: str) -> list[str]:
    return sorted(c.customer_id for c in state.customers.values() if c.email.lower() == email)


async def link_row(pool: asyncpg.Pool, email: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM customers WHERE email = $1", email)


async def test_a_new_shopper_is_created_once_and_the_document_carries_the_new_id(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    shopper = {"first_name": "Léa", "last_name": "Martin", "phone": "+33612345678"}
    shopper |= {"ps_customer_id": 4242}
    email = "Lea.Martin@Example.org "
    first = await new_pickup(pool, state, email=email, customer=shopper, store_index=1)
    deps = make_deps()
    assert await relay_once(deps) == 1
    [created] = sim_customers(state, "lea.martin@example.org")
    customer = state.customers[created]
    assert (customer.first_name, customer.last_name, customer.phone) == (
        "Léa",
        "Martin",
        "+33612345678",
    )
    assert customer.usual_store_id == sorted(state.stores)[1]  # the pickup store
    assert (await documents(sim_url))[str(first)]["customer_id"] == created
    row = await link_row(pool, "lea.martin@example.org")
    assert row is not None and row["erp_customer_id"] == created
    assert row["linked_by"] == "created" and row["ps_customer_id"] == 4242
    [out] = await outbox_rows(pool, first)
    assert out["result"]["customer_id"] == created
    assert out["result"]["customer_resolved_by"] == "created"

    # the next pickup of the shopper: the stored link, no search; a new phone -> UpdateCustomer
    changed = shopper | {"phone": "+33699999999"}
    second = await new_pickup(pool, state, kind="reservation", email=email, customer=changed)
    assert await relay_once(deps) == 1
    assert (await documents(sim_url))[str(second)]["customer_id"] == created
    assert await calls(sim_url, ADD) == 1 and await calls(sim_url, SEARCH) == 1
    assert await calls(sim_url, UPDATE) == 1
    assert state.customers[created].phone == "+33699999999"
    row = await link_row(pool, "lea.martin@example.org")
    assert row is not None and row["phone"] == "+33699999999"
    # the same details again: nothing to update
    await new_pickup(pool, state, kind="reservation", email=email, customer=changed)
    assert await relay_once(deps) == 1
    assert await calls(sim_url, UPDATE) == 1


async def test_concurrent_first_orders_of_one_email_from_two_relays_make_one_customer(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    email = "twice@example.org"
    ids = [await new_pickup(pool, state, email=email, items=[(i, 1)]) for i in range(2)]
    # a slow search and a slow creation: without the lock both relays would create
    await add_fault(sim_url, kind="latency", operation="SearchCustomerIds", latency_ms=200)
    await add_fault(sim_url, kind="latency", operation="AddNewCustomer", latency_ms=300)
    other = await CegidErp.create(erp_config(sim_url))
    try:
        relays = [make_deps(concurrency=1, batch_size=1), make_deps(erp=other, concurrency=1)]
        handled = await asyncio.gather(*(relay_once(d) for d in relays))
    finally:
        await other.aclose()
    assert sorted(handled) == [1, 1]
    assert await calls(sim_url, ADD) == 1
    [customer_id] = sim_customers(state, email)
    docs = await documents(sim_url)
    assert [docs[str(i)]["customer_id"] for i in ids] == [customer_id, customer_id]
    assert await pool.fetchval("SELECT count(*) FROM customers") == 1


async def test_connection_dropped_after_add_new_customer_creates_no_second_customer(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    email = "dropped@example.org"
    pickup_id = await new_pickup(pool, state, email=email)
    await add_fault(sim_url, kind="drop", operation="AddNewCustomer", count=1)
    assert await relay_once(make_deps()) == 1
    [customer_id] = sim_customers(state, email)  # the ERP created it; its answer was lost
    assert await calls(sim_url, ADD) == 1
    assert await calls(sim_url, SEARCH) == 2  # before creating, and after the lost answer
    assert (await documents(sim_url))[str(pickup_id)]["customer_id"] == customer_id
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "done" and row["attempts"] == 1
    link = await link_row(pool, email)
    assert link is not None and link["erp_customer_id"] == customer_id


async def test_search_down_then_creation_dropped_still_links_one_customer(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    email = "later@example.org"
    pickup_id = await new_pickup(pool, state, email=email)
    await add_fault(sim_url, kind="drop", operation="AddNewCustomer", count=1)
    await add_fault(sim_url, kind="down", operation="SearchCustomerIds", count=2)
    deps = make_deps(backoff_base_s=0.01, backoff_max_s=0.01)
    assert await relay_once(deps) == 1  # the first search is down: retried later
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "pending" and await calls(sim_url, ADD) == 0
    await asyncio.sleep(0.05)
    for _ in range(5):
        if await relay_once(deps) == 0:
            break
        await asyncio.sleep(0.05)
    [customer_id] = sim_customers(state, email)
    assert await calls(sim_url, ADD) == 1
    assert (await documents(sim_url))[str(pickup_id)]["customer_id"] == customer_id


async def test_creation_off_searches_only(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    known = next(iter(state.customers.values()))
    unknown = await new_pickup(pool, state, email="stranger@example.org")
    found = await new_pickup(pool, state, email=known.email.upper())
    assert await relay_once(make_deps(create_customers=False)) == 2
    docs = await documents(sim_url)
    assert docs[str(unknown)]["customer_id"] == ""
    assert docs[str(found)]["customer_id"] == known.customer_id
    assert await calls(sim_url, ADD) == 0
    row = await link_row(pool, known.email.lower())
    assert row is not None and row["linked_by"] == "found"


async def test_several_customers_share_an_email_prestashop_link_else_most_recent(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    ids = sorted(state.customers)
    email = "shared@example.org"
    for n, customer_id in enumerate(ids[:3]):
        when = datetime(2026, 1, 1 + n)
        state.customers[customer_id] = dataclasses.replace(
            state.customers[customer_id], email=email, updated_at=when
        )
    older = ids[0]
    # the PrestaShop id is already linked (an earlier e-mail) to the oldest one
    await pool.execute(
        "INSERT INTO customers (email, ps_customer_id, erp_customer_id, linked_by)"
        " VALUES ('old@example.org', 77, $1, 'found')",
        older,
    )
    by_ps = await new_pickup(pool, state, email=email, customer={"ps_customer_id": 77})
    assert await relay_once(make_deps()) == 1
    assert (await documents(sim_url))[str(by_ps)]["customer_id"] == older
    row = await link_row(pool, email)
    assert row is not None and row["linked_by"] == "ambiguous"
    assert sorted(row["candidates"]) == ids[:3]

    # the link updated the chosen one's names (UpdateCustomer): it is the most recent now
    assert await calls(sim_url, UPDATE) == 1
    state.customers[older] = dataclasses.replace(
        state.customers[older], updated_at=datetime(2025, 12, 31)
    )
    await pool.execute("DELETE FROM customers WHERE email = $1", email)
    recent = await new_pickup(pool, state, email=email)
    assert await relay_once(make_deps()) == 1
    assert (await documents(sim_url))[str(recent)]["customer_id"] == ids[2]  # most recent
    assert await calls(sim_url, ADD) == 0


async def test_a_refused_creation_posts_the_document_without_customer(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    nameless = {"first_name": "", "last_name": ""}
    pickup_id = await new_pickup(pool, state, email="anon@example.org", customer=nameless)
    assert await relay_once(make_deps()) == 1  # the simulator wants a name, as Cegid does
    assert (await documents(sim_url))[str(pickup_id)]["customer_id"] == ""
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "done" and row["result"]["customer_resolved_by"] == "refused"
    assert await link_row(pool, "anon@example.org") is None  # tried again with a later pickup


async def test_a_given_cegid_id_is_used_and_remembered(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    given = sorted(state.customers)[3]
    pickup_id = await new_pickup(
        pool,
        state,
        email="given@example.org",
        erp_customer_id=given,
        customer={"ps_customer_id": 5},
    )
    assert await relay_once(make_deps()) == 1
    assert (await documents(sim_url))[str(pickup_id)]["customer_id"] == given
    assert await calls(sim_url, SEARCH) == 0 and await calls(sim_url, ADD) == 0
    row = await link_row(pool, "given@example.org")
    assert row is not None and (row["erp_customer_id"], row["linked_by"]) == (given, "given")
    assert row["ps_customer_id"] == 5
