"""Operating the outbox: the CLI (list, show, replay), the admin API, and the metrics gauges."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import asyncpg
import pytest

from service.cli.outbox import add_commands, run_outbox
from service.erp.simulator import SimulatorState
from service.observability import Metrics
from service.settings import Settings
from service.usecases.outbox.relay import refresh_outbox_gauges, relay_once
from tests.conftest import AppFactory, KeyFactory, bearer
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import (
    MakeDeps,
    add_event,
    add_fault,
    clear_faults,
    documents,
    new_pickup,
    outbox_rows,
)

# the shared fixtures, used by name
state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps

PROBLEM = "urn:omnistock:problem:"


@dataclass
class Mixed:
    done: int  # posted
    bad_data: int  # dead: the ERP refused the document (business fault)
    erp_down: int  # dead: out of attempts while the ERP was down
    blocked: int  # pending: a 'ready' row behind the bad_data row
    erp_down_pickup: str


@pytest.fixture
async def mixed(
    pool: asyncpg.Pool, state: SimulatorState, sim_url: str, make_deps: MakeDeps
) -> Mixed:
    deps = make_deps(max_attempts=1)
    done = await new_pickup(pool, state)
    bad = await new_pickup(pool, state, sku_override="NO-SUCH-SKU")
    assert await relay_once(deps) == 2
    down = await new_pickup(pool, state)
    await add_fault(sim_url, kind="http500", operation="Create")
    assert await relay_once(deps) == 1
    await clear_faults(sim_url)
    blocked = await add_event(pool, bad, "pickup.ready")
    ids = [(await outbox_rows(pool, p))[0]["id"] for p in (done, bad, down)]
    return Mixed(*ids, blocked=blocked, erp_down_pickup=str(down))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["outbox", *argv])


async def test_cli_lists_shows_and_replays(
    mixed: Mixed,
    settings: Settings,
    pool: asyncpg.Pool,
    make_deps: MakeDeps,
    sim_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_outbox(settings, _args("list", "--status", "dead")) == 0
    out = capsys.readouterr().out.splitlines()
    assert [int(line.split()[0]) for line in out] == [mixed.bad_data, mixed.erp_down]
    assert "The item 'NO-SUCH-SKU' does not exist" in out[0]

    assert await run_outbox(settings, _args("show", str(mixed.erp_down))) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "dead" and shown["payload"]["pickup_id"] == mixed.erp_down_pickup
    assert "HTTP 500" in shown["last_error"]

    argv = ("replay", str(mixed.erp_down), str(mixed.done), "999999")
    assert await run_outbox(settings, _args(*argv)) == 2
    captured = capsys.readouterr()
    assert captured.out.strip() == f"replayed 1 row(s): {mixed.erp_down}"
    assert "no outbox row 999999" in captured.err
    assert f"outbox row {mixed.done} is not dead" in captured.err
    row = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", mixed.erp_down)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert await relay_once(make_deps()) == 1  # the ERP is back: posted
    assert mixed.erp_down_pickup in await documents(sim_url)

    assert await run_outbox(settings, _args("replay", "--all-dead")) == 0
    assert capsys.readouterr().out.strip() == f"replayed 1 dead row(s): {mixed.bad_data}"
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'dead'") == 0

    assert await run_outbox(settings, _args("show", "999999")) == 2
    assert "no outbox row 999999" in capsys.readouterr().err


async def test_admin_api_pages_shows_and_replays(
    mixed: Mixed, make_client: AppFactory, make_key: KeyFactory
) -> None:
    client = await make_client()
    admin = bearer(await make_key("admin"))
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/v1/admin/outbox", params=query, headers=admin)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([mixed.done, mixed.bad_data, mixed.erp_down, mixed.blocked])

    resp = await client.get("/v1/admin/outbox", params={"status": "dead"}, headers=admin)
    assert [i["id"] for i in (await resp.json())["items"]] == [mixed.bad_data, mixed.erp_down]
    resp = await client.get(f"/v1/admin/outbox/{mixed.done}", headers=admin)
    shown = await resp.json()
    assert shown["status"] == "done" and shown["result"]["key"]["type"] == "CustomerOrder"

    resp = await client.post(f"/v1/admin/outbox/{mixed.erp_down}/replay", headers=admin)
    assert resp.status == 200
    replayed = await resp.json()
    assert (replayed["status"], replayed["attempts"]) == ("pending", 0)
    resp = await client.post(f"/v1/admin/outbox/{mixed.erp_down}/replay", headers=admin)
    problem = await resp.json()
    assert resp.status == 409 and problem["type"] == PROBLEM + "conflict"
    assert problem["current_status"] == "pending"
    for path in ("/v1/admin/outbox/999999/replay", "/v1/admin/outbox/99999999999999999999/replay"):
        resp = await client.post(path, headers=admin)
        assert resp.status == 404 and (await resp.json())["type"] == PROBLEM + "not-found"
    resp = await client.post("/v1/admin/outbox/replay-dead", headers=admin)
    assert (await resp.json()) == {"replayed": [mixed.bad_data]}

    resp = await client.get("/v1/admin/outbox", params={"cursor": "nope"}, headers=admin)
    assert resp.status == 422
    resp = await client.get("/v1/admin/outbox", params={"status": "lost"}, headers=admin)
    assert resp.status == 422
    storefront = bearer(await make_key("storefront"))
    resp = await client.post("/v1/admin/outbox/replay-dead", headers=storefront)
    assert resp.status == 403


def _sample(text: str, name: str) -> float:
    line = next(ln for ln in text.splitlines() if ln.startswith(name + " "))
    return float(line.split()[1])


async def test_gauges_count_pending_and_dead_rows_at_scrape_time(
    mixed: Mixed, make_client: AppFactory, pool: asyncpg.Pool
) -> None:
    metrics = Metrics()
    async with pool.acquire() as conn:
        await refresh_outbox_gauges(conn, metrics)
    assert metrics.registry.get_sample_value("omnistock_outbox_depth") == 1
    assert metrics.registry.get_sample_value("omnistock_outbox_dead") == 2
    assert (
        metrics.registry.get_sample_value("omnistock_outbox_oldest_pending_age_seconds") or 0
    ) > 0

    await pool.execute("UPDATE outbox SET status = 'done' WHERE status <> 'done'")
    client = await make_client()
    text = await (await client.get("/metrics")).text()
    assert _sample(text, "omnistock_outbox_depth") == 0
    assert _sample(text, "omnistock_outbox_dead") == 0
    assert _sample(text, "omnistock_outbox_oldest_pending_age_seconds") == 0
