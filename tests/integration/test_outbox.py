"""The outbox relay against the Cegid simulator and a real PostgreSQL: posting, acknowledgement,
retries with backoff, dead rows, transitions. Crashes and concurrency: test_outbox_crashes.py."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import asyncpg

from service.erp.cegid import CegidErp
from service.erp.simulator import SimulatorState
from service.usecases.outbox.relay import relay_once
from stores.notify import STOCK_CHANNEL
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import (
    CREATE,
    RESERVE,
    MakeDeps,
    add_event,
    add_fault,
    calls,
    clear_faults,
    documents,
    drain,
    erp_config,
    new_pickup,
    outbox_rows,
)

# the shared fixtures, used by name
state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps


def _counter(deps_metrics: object, kind: str, outcome: str) -> float:
    registry = deps_metrics.registry  # type: ignore[attr-defined]
    labels = {"kind": kind, "outcome": outcome}
    return registry.get_sample_value("omnistock_outbox_posts_total", labels) or 0.0


async def test_created_order_is_posted_and_its_pickup_and_holds_acknowledged(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps, database_url
) -> None:
    customer = next(iter(state.customers.values()))
    pickup_id = await new_pickup(pool, state, items=[(0, 2), (3, 1)], email=customer.email)
    heard: list[str] = []
    listener = await asyncpg.connect(database_url)
    await listener.add_listener(STOCK_CHANNEL, lambda *a: heard.append(a[3]))
    try:
        deps = make_deps()
        assert await relay_once(deps) == 1
        await asyncio.sleep(0.1)
    finally:
        await listener.close()

    doc = (await documents(sim_url))[str(pickup_id)]
    assert doc["key"]["type"] == "CustomerOrder"
    assert doc["store_id"] == "WEB" and doc["delivery_type"] == "PickingUpInStore"
    assert doc["delivery_store_id"] == sorted(state.stores)[0]
    assert doc["customer_id"] == customer.customer_id  # found by e-mail (SearchCustomerIds)
    assert [(ln["sku"], ln["quantity"]) for ln in doc["lines"]] == [
        (state.items[0].sku, 2),
        (state.items[3].sku, 1),
    ]
    pickup = await pool.fetchrow("SELECT * FROM pickups WHERE id = $1", pickup_id)
    key = {k: doc["key"][k] for k in ("number", "stump", "type")}
    assert pickup["erp_document"] == key and pickup["erp_acked_at"] is not None
    holds = await pool.fetch("SELECT erp_acked_at FROM stock_holds WHERE pickup_id = $1", pickup_id)
    assert len(holds) == 2 and all(h["erp_acked_at"] is not None for h in holds)
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "done" and row["attempts"] == 1 and row["done_at"] is not None
    assert row["result"]["key"] == key and row["result"]["already_existed"] is False
    assert sorted(sku for h in heard for sku in json.loads(h)) == sorted(
        [state.items[0].sku, state.items[3].sku]
    )
    assert _counter(deps.metrics, "pickup.created", "posted") == 1


async def test_reservation_without_known_customer_gets_the_default_customer(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    fallback = sorted(state.customers)[-1]
    pickup_id = await new_pickup(pool, state, kind="reservation", email="nobody@example.org")
    # customer creation off (OMNISTOCK_ERP_CREATE_CUSTOMERS=false): search only
    assert await relay_once(make_deps(default_customer_id=fallback, create_customers=False)) == 1
    doc = (await documents(sim_url))[str(pickup_id)]
    assert doc["key"]["type"] == "CustomersReservation" and doc["customer_id"] == fallback
    assert await calls(sim_url, RESERVE) == 1
    assert await calls(sim_url, "CustomerWcfService.AddNewCustomer") == 0


async def test_erp_down_for_a_burst_then_every_pickup_is_posted_exactly_once(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    ids = [await new_pickup(pool, state, items=[(i % 12, 1)]) for i in range(30)]
    await add_fault(sim_url, kind="down")
    deps = make_deps(backoff_base_s=0.2, backoff_max_s=0.2, batch_size=100)
    before: datetime = await pool.fetchval("SELECT clock_timestamp()")
    assert await relay_once(deps) == 30
    rows = await outbox_rows(pool)
    assert {r["status"] for r in rows} == {"pending"} and {r["attempts"] for r in rows} == {1}
    assert all(r["next_attempt_at"] > before for r in rows)  # each waits for its backoff
    assert all("503" in r["last_error"] for r in rows)
    assert await documents(sim_url) == {}
    assert await pool.fetchval("SELECT count(*) FROM pickups WHERE erp_acked_at IS NOT NULL") == 0

    await clear_faults(sim_url)
    await asyncio.sleep(0.25)  # every backoff is over
    assert await drain(lambda: relay_once(deps)) == 30
    assert set(await documents(sim_url)) == {str(i) for i in ids}
    assert await calls(sim_url, CREATE) == 60  # 30 refused while down, 30 accepted
    rows = await outbox_rows(pool)
    assert {r["status"] for r in rows} == {"done"} and {r["attempts"] for r in rows} == {2}
    assert _counter(deps.metrics, "pickup.created", "retry") == 30
    assert _counter(deps.metrics, "pickup.created", "posted") == 30


async def test_connection_dropped_after_the_erp_stored_the_document(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    """The ERP integrates the document and the answer is lost: the row stays pending; the next
    post gets CBR00009, looks the document up, and settles with the same key."""
    pickup_id = await new_pickup(pool, state)
    await add_fault(sim_url, kind="drop", operation="Create", count=1)
    deps = make_deps()
    assert await relay_once(deps) == 1
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert len(await documents(sim_url)) == 1  # stored before the connection dropped

    assert await drain(lambda: relay_once(deps)) == 1
    [row] = await outbox_rows(pool, pickup_id)
    doc = (await documents(sim_url))[str(pickup_id)]
    assert row["status"] == "done" and row["result"]["already_existed"] is True
    assert row["result"]["key"]["number"] == doc["key"]["number"]
    erp_document = await pool.fetchval("SELECT erp_document FROM pickups WHERE id=$1", pickup_id)
    assert erp_document["number"] == doc["key"]["number"]
    assert len(await documents(sim_url)) == 1
    assert _counter(deps.metrics, "pickup.created", "already_existed") == 1


async def test_cancelled_expired_and_no_show_cancel_the_document(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    cancelled = await new_pickup(pool, state, items=[(1, 1)])
    expired = await new_pickup(pool, state, kind="reservation", items=[(2, 1)])
    no_show = await new_pickup(pool, state, items=[(3, 1)])
    await add_event(pool, cancelled, "pickup.cancelled")
    await add_event(pool, expired, "pickup.expired")
    await add_event(pool, no_show, "pickup.ready")
    await add_event(pool, no_show, "pickup.no_show")
    assert await drain(lambda: relay_once(make_deps())) == 7
    docs = await documents(sim_url)
    for pickup_id in (cancelled, expired, no_show):
        doc = docs[str(pickup_id)]
        assert doc["cancel_status"] == "Canceled" and doc["holds_stock"] is False
        assert (await outbox_rows(pool, pickup_id))[-1]["result"]["cancelled"] is True


async def test_a_business_fault_is_dead_at_once_and_blocks_the_pickup(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state, sku_override="NO-SUCH-SKU")
    await add_event(pool, pickup_id, "pickup.ready")
    deps = make_deps()
    assert await drain(lambda: relay_once(deps)) == 1
    created, ready = await outbox_rows(pool, pickup_id)
    assert created["status"] == "dead" and created["attempts"] == 1
    assert "The item 'NO-SUCH-SKU' does not exist" in created["last_error"]
    assert ready["status"] == "pending" and ready["attempts"] == 0  # waits behind the dead row
    assert await pool.fetchval("SELECT erp_acked_at FROM pickups WHERE id=$1", pickup_id) is None
    assert _counter(deps.metrics, "pickup.created", "dead") == 1


async def test_after_max_attempts_the_row_is_dead_with_its_last_error(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state)
    await add_fault(sim_url, kind="http500")
    deps = make_deps(max_attempts=3)
    for expected in ("pending", "pending", "dead"):
        await asyncio.sleep(0.01)
        assert await relay_once(deps) == 1
        [row] = await outbox_rows(pool, pickup_id)
        assert row["status"] == expected
    assert row["attempts"] == 3
    assert "HTTP 500" in row["last_error"] and "after 3 attempts" in row["last_error"]
    assert await relay_once(deps) == 0


async def test_refused_credentials_are_retried_not_dead(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state)
    wrong = await CegidErp.create(erp_config(sim_url, password="wrong"))
    try:
        assert await relay_once(make_deps(erp=wrong)) == 1
    finally:
        await wrong.aclose()
    [row] = await outbox_rows(pool, pickup_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"].startswith("ErpAuthError")


async def test_a_transition_without_a_stored_key_looks_the_document_up(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    posted = await new_pickup(pool, state)
    deps = make_deps()
    assert await relay_once(deps) == 1
    reset = "UPDATE pickups SET erp_document = NULL, erp_acked_at = NULL WHERE id = $1"
    await pool.execute(reset, posted)  # e.g. a 'created' row settled by hand
    await add_event(pool, posted, "pickup.ready")
    assert await relay_once(deps) == 1
    doc = (await documents(sim_url))[str(posted)]
    assert doc["follow_up_status"] == "AvailableInStore"
    pickup = await pool.fetchrow("SELECT * FROM pickups WHERE id = $1", posted)
    assert pickup["erp_document"]["number"] == doc["key"]["number"]
    assert pickup["erp_acked_at"] is not None

    never_posted = await new_pickup(pool, state)
    await pool.execute(
        "UPDATE outbox SET status = 'done' WHERE aggregate_id = $1", str(never_posted)
    )
    await add_event(pool, never_posted, "pickup.ready")
    assert await relay_once(deps) == 1
    [_, ready] = await outbox_rows(pool, never_posted)
    assert ready["status"] == "pending" and "has no document" in ready["last_error"]


async def test_the_worker_job_runs_the_relay_and_sync_jobs_take_the_same_deps(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, erp: CegidErp, settings
) -> None:
    from service.observability import Metrics
    from service.workers.jobs import WorkerDeps, build_jobs

    jobs = {job.name: job for job in build_jobs(settings)}
    relay = jobs["outbox_relay"]
    assert relay.singleton is False and relay.interval_s == settings.outbox_interval_s
    pickup_id = await new_pickup(pool, state)
    deps = WorkerDeps(settings, pool, erp, Metrics())
    assert await relay.run_once(deps) == 1
    assert str(pickup_id) in await documents(sim_url)
    assert await jobs["items"].run_once(deps) == len(state.items)  # a sync job, same deps


async def test_an_erp_exchange_longer_than_the_post_timeout_is_retried(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> None:
    pickup_id = await new_pickup(pool, state)
    await add_fault(sim_url, kind="timeout", operation="Create", hang_ms=5_000, count=1)
    assert await relay_once(make_deps(post_timeout_s=0.3)) == 1
    [row] = await outbox_rows(pool, pickup_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "TimeoutError")
