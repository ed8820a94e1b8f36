"""Committed redemption holds posted through the outbox as UpdatePoints, against the Cegid
simulator: exactly once, never re-sent after an ambiguous failure, retried when surely not sent,
settled by hand with the resolve use case."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from service.erp.cegid import CegidErp
from service.erp.simulator import SimulatorState
from service.errors import Conflict
from service.usecases.loyalty.balances import LoyaltyReader
from service.usecases.loyalty.holds import NewHold, change_hold, create_hold
from service.usecases.loyalty.model import LoyaltySettings
from service.usecases.loyalty.relay import resolve
from service.usecases.outbox.relay import relay_once
from stores import outbox as outbox_repo
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import (
    MakeDeps,
    add_fault,
    calls,
    clear_faults,
    drain,
    outbox_rows,
    sim_get,
)

state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps
UPDATE_POINTS = "LoyaltyWcfService.UpdatePoints"
SETTINGS = LoyaltySettings()


def card_of(state: SimulatorState, points: int) -> tuple[str, str]:
    """(customer id, card id) of the first customer with a card, set active with ``points``."""
    card = next(iter(state.cards.values()))
    card.active, card.points = True, Decimal(points)
    return card.customer_id, card.card_id


def reader_for(pool: asyncpg.Pool, erp: CegidErp, ttl_s: float = 0.05) -> LoyaltyReader:
    async def source() -> CegidErp:
        return erp

    return LoyaltyReader(pool, source, LoyaltySettings(ttl_s=ttl_s))


async def committed(reader: LoyaltyReader, customer_id: str, points: int) -> uuid.UUID:
    _, body = await create_hold(reader, customer_id, NewHold(points, reference="PS-1"), None)
    hold_id = uuid.UUID(body["id"])
    await change_hold(reader.pool, hold_id, "commit", SETTINGS, None)
    return hold_id


async def hold_row(pool: asyncpg.Pool, hold_id: uuid.UUID) -> Any:
    return await pool.fetchrow("SELECT * FROM loyalty_holds WHERE id = $1", hold_id)


async def test_a_commit_is_posted_exactly_once_and_never_counted_twice(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, erp: CegidErp, make_deps: MakeDeps
) -> None:
    customer_id, card_id = card_of(state, 1000)
    reader = reader_for(pool, erp, ttl_s=0.6)
    hold_id = await committed(reader, customer_id, 250)
    [row] = await outbox_rows(pool, hold_id)
    assert (row["aggregate"], row["kind"], row["status"]) == (
        "loyalty",
        "loyalty.redeem",
        "pending",
    )
    payload = row["payload"]
    assert (payload["hold_id"], payload["card_id"], payload["program_id"]) == (
        str(hold_id),
        card_id,
        "FID01",
    )
    assert (payload["points"], payload["store_id"]) == (250, "WEB")
    assert str(hold_id) in payload["comment"] and "PS-1" in payload["comment"]
    assert (await reader.balance(customer_id))["points_available"] == 750

    deps = make_deps()
    assert await drain(lambda: relay_once(deps)) == 1
    assert await relay_once(deps) == 0
    assert await calls(sim_url, UPDATE_POINTS) == 1
    assert state.cards[card_id].points == 750
    [sent] = await sim_get(sim_url, "requests?operation=UpdatePoints")
    assert f"omnistock loyalty hold {hold_id}" in sent["body"] and "-250" in sent["body"]
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "done" and row["attempts"] == 1
    hold = await hold_row(pool, hold_id)
    assert hold["state"] == "committed" and hold["erp_acked_at"] is not None

    # an older reading still counts the hold; a later one shows it: 750 either way
    stale = await reader.balance(customer_id)
    assert (stale["erp_points"], stale["held_points"], stale["points_available"]) == (
        1000,
        250,
        750,
    )
    await asyncio.sleep(0.6)
    fresh = await reader.balance(customer_id)
    assert (fresh["erp_points"], fresh["held_points"], fresh["points_available"]) == (750, 0, 750)
    assert fresh["holds"] == []
    with pytest.raises(Conflict):
        await change_hold(pool, hold_id, "commit", SETTINGS, None)
    with pytest.raises(Conflict):
        await change_hold(pool, hold_id, "release", SETTINGS, None)


async def test_an_ambiguous_post_is_never_sent_again_until_resolved(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, erp: CegidErp, make_deps: MakeDeps
) -> None:
    customer_id, card_id = card_of(state, 1000)
    hold_id = await committed(reader_for(pool, erp), customer_id, 100)
    await add_fault(sim_url, kind="drop", operation="UpdatePoints", count=1)  # applied, no answer
    deps = make_deps()
    assert await relay_once(deps) == 1
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "dead" and "may have been applied" in row["last_error"]
    assert state.cards[card_id].points == 900

    async with pool.acquire() as conn:
        assert await outbox_repo.replay(conn, [row["id"]]) == [row["id"]]
    assert await relay_once(deps) == 1  # replayed without resolving: still not sent
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "dead" and "never finished" in row["last_error"]
    assert await calls(sim_url, UPDATE_POINTS) == 1 and state.cards[card_id].points == 900

    settled = await resolve(pool, hold_id, posted=True)
    assert settled.erp_acked_at is not None
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "done"
    with pytest.raises(Conflict):
        await resolve(pool, hold_id, posted=True)
    assert await relay_once(deps) == 0 and state.cards[card_id].points == 900


async def test_a_post_that_did_not_reach_the_erp_is_sent_again_once_resolved(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, erp: CegidErp, make_deps: MakeDeps
) -> None:
    customer_id, card_id = card_of(state, 1000)
    hold_id = await committed(reader_for(pool, erp), customer_id, 100)
    await add_fault(sim_url, kind="timeout", operation="UpdatePoints", hang_ms=3000, count=1)
    deps = make_deps(post_timeout_s=0.2)
    assert await relay_once(deps) == 1
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "dead" and "TimeoutError" in row["last_error"]
    assert state.cards[card_id].points == 1000  # the ERP never applied it

    await resolve(pool, hold_id, posted=False)
    assert (await hold_row(pool, hold_id))["post_started_at"] is None
    assert await drain(lambda: relay_once(deps)) == 1
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "done" and state.cards[card_id].points == 900


async def test_erp_down_is_retried_and_a_business_fault_is_dead_then_replayable(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, erp: CegidErp, make_deps: MakeDeps
) -> None:
    customer_id, card_id = card_of(state, 1000)
    hold_id = await committed(reader_for(pool, erp), customer_id, 300)
    deps = make_deps()
    await add_fault(sim_url, kind="down")  # HTTP 503: surely not processed
    assert await relay_once(deps) == 1
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "pending" and "503" in row["last_error"]
    assert (await hold_row(pool, hold_id))["post_started_at"] is None
    await clear_faults(sim_url)

    state.cards[card_id].active = False  # closed in the ERP meanwhile: a business fault
    await asyncio.sleep(0.01)
    assert await drain(lambda: relay_once(deps)) == 1
    [row] = await outbox_rows(pool, hold_id)
    assert row["status"] == "dead" and "is closed" in row["last_error"]
    assert (await hold_row(pool, hold_id))["post_started_at"] is None

    state.cards[card_id].active = True
    async with pool.acquire() as conn:
        await outbox_repo.replay(conn, [row["id"]])
    assert await drain(lambda: relay_once(deps)) == 1
    assert state.cards[card_id].points == 700
    assert await calls(sim_url, UPDATE_POINTS) == 3  # refused (503), refused (closed), applied


async def test_the_worker_runs_the_loyalty_sweeper(
    pool: asyncpg.Pool, state: SimulatorState, erp: CegidErp, settings
) -> None:
    from service.observability import Metrics
    from service.workers.jobs import WorkerDeps, build_jobs

    jobs = {job.name: job for job in build_jobs(settings)}
    sweeper = jobs["loyalty_sweeper"]
    assert sweeper.singleton is False
    assert sweeper.interval_s == settings.loyalty_sweeper_interval_s
    customer_id, _ = card_of(state, 100)
    _, body = await create_hold(reader_for(pool, erp), customer_id, NewHold(40), None)
    await pool.execute("UPDATE loyalty_holds SET expires_at = now() - interval '1 second'")
    assert await sweeper.run_once(WorkerDeps(settings, pool, erp, Metrics())) == 1
    assert (await hold_row(pool, uuid.UUID(body["id"])))["state"] == "expired"
