"""Pickup notifications through the outbox: signed webhooks and PrestaShop order states, against
the Cegid simulator and a local stand-in receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from service.erp.simulator import SimulatorState
from service.usecases.outbox.notifications import NotificationConfig
from service.usecases.outbox.relay import RelayDeps, relay_once
from tests.integration import outbox_fixtures as fx
from tests.integration.outbox_fixtures import MakeDeps, add_event, new_pickup, outbox_rows

# the shared fixtures, used by name
state, sim_url, erp, make_deps = fx.state, fx.sim_url, fx.erp, fx.make_deps

SECRET = "whsec-test"
PS_KEY = "PSKEY123"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """A receiver that records every request and answers the queued (status, body) pairs, then
    200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body))
        status, text = self.answers.pop(0) if self.answers else (200, "ok")
        return web.Response(status=status, text=text)


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    recorder = StandIn()
    app = web.Application()
    app.router.add_post("/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    recorder.url = f"http://127.0.0.1:{port}"
    yield recorder
    await runner.cleanup()


async def _settle_all(pool: asyncpg.Pool, deps: RelayDeps, rounds: int = 50) -> None:
    """Run the relay until no row is pending (retries are due within milliseconds)."""
    for _ in range(rounds):
        await relay_once(deps)
        if not await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not settle")


async def _order_pickup(pool: asyncpg.Pool, state: SimulatorState, ps_order_id: int) -> uuid.UUID:
    pickup_id = await new_pickup(pool, state, kind="order")
    await pool.execute("UPDATE pickups SET ps_order_id = $2 WHERE id = $1", pickup_id, ps_order_id)
    return pickup_id


def _rows(rows: list[Any], aggregate: str) -> list[Any]:
    return [r for r in rows if r["aggregate"] == aggregate]


def _expected_signature(received: Received) -> str:
    timestamp = received.headers["X-Omnistock-Timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --------------------------------------------------------------------------- webhooks
async def test_every_event_is_a_signed_webhook_in_order(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    config = NotificationConfig(webhook_url=f"{stand_in.url}/hooks", webhook_secret=SECRET)
    deps = make_deps(notifications=config)
    pickup_id = await _order_pickup(pool, state, 42)
    await add_event(pool, pickup_id, "pickup.ready")
    await add_event(pool, pickup_id, "pickup.collected")
    await _settle_all(pool, deps)

    events = ["pickup.created", "pickup.ready", "pickup.collected"]
    assert [r.path for r in stand_in.received] == ["/hooks"] * 3
    assert [r.headers["X-Omnistock-Event"] for r in stand_in.received] == events
    deliveries = {r.headers["X-Omnistock-Delivery"] for r in stand_in.received}
    assert len(deliveries) == 3
    reference = await pool.fetchval(
        "SELECT ps_order_reference FROM pickups WHERE id = $1", pickup_id
    )
    for received, event, pickup_state in zip(
        stand_in.received, events, ["confirmed", "ready", "collected"], strict=True
    ):
        assert received.headers["X-Omnistock-Signature"] == _expected_signature(received)
        assert received.headers["X-Omnistock-Timestamp"].isdigit()
        assert received.headers["Content-Type"] == "application/json"
        body = json.loads(received.body)
        assert body["event"] == event and body["pickup_id"] == str(pickup_id) and body["at"]
        assert body["delivery_id"] == received.headers["X-Omnistock-Delivery"]
        assert body["pickup"] == {
            "id": str(pickup_id),
            "kind": "order",
            "state": pickup_state,
            "store_id": sorted(state.stores)[0],
            "ps_order_id": 42,
            "ps_order_reference": reference,
        }
    rows = await outbox_rows(pool, pickup_id)
    hooks = _rows(rows, "webhook")
    assert [r["kind"] for r in hooks] == events
    assert all(r["status"] == "done" for r in rows)
    assert _rows(rows, "prestashop") == []


async def test_a_wrong_secret_does_not_verify(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    config = NotificationConfig(webhook_url=stand_in.url, webhook_secret="another-secret")
    await new_pickup(pool, state, kind="reservation")
    await _settle_all(pool, make_deps(notifications=config))
    [received] = stand_in.received
    assert received.headers["X-Omnistock-Signature"] != _expected_signature(received)


async def test_a_retried_webhook_keeps_its_delivery_id(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    stand_in.answers = [(500, "receiver down")]
    config = NotificationConfig(webhook_url=stand_in.url, webhook_secret=SECRET)
    pickup_id = await new_pickup(pool, state, kind="reservation")
    await _settle_all(pool, make_deps(notifications=config))

    first, second = stand_in.received
    assert first.headers["X-Omnistock-Delivery"] == second.headers["X-Omnistock-Delivery"]
    assert json.loads(first.body) == json.loads(second.body)
    assert second.headers["X-Omnistock-Signature"] == _expected_signature(second)
    [hook] = _rows(await outbox_rows(pool, pickup_id), "webhook")
    assert hook["status"] == "done" and hook["attempts"] == 2
    assert hook["result"]["delivery_id"] == first.headers["X-Omnistock-Delivery"]


async def test_an_unreachable_receiver_is_retried(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    await stand_in_close(stand_in)
    config = NotificationConfig(webhook_url=stand_in.url, webhook_secret=SECRET, timeout_s=2)
    pickup_id = await new_pickup(pool, state, kind="reservation")
    deps = make_deps(notifications=config, backoff_base_s=60, backoff_max_s=60)
    await relay_once(deps)
    await relay_once(deps)
    [hook] = _rows(await outbox_rows(pool, pickup_id), "webhook")
    assert hook["status"] == "pending" and hook["attempts"] == 1
    assert "ClientConnectorError" in hook["last_error"]


async def stand_in_close(stand_in: StandIn) -> None:
    """Point the stand-in's URL at a closed port on 127.0.0.1."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    stand_in.url = f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- PrestaShop
def _prestashop(url: str, ready: int = 17, collected: int = 18) -> NotificationConfig:
    return NotificationConfig(
        prestashop_url=f"{url}/shop/",
        prestashop_key=PS_KEY,
        prestashop_ready_state=ready,
        prestashop_collected_state=collected,
    )


def _order_history(received: Received) -> tuple[int, int]:
    root = ET.fromstring(received.body)
    assert root.tag == "prestashop"
    history = root.find("order_history")
    assert history is not None
    return int(history.findtext("id_order") or 0), int(history.findtext("id_order_state") or 0)


async def test_ready_and_collected_orders_move_the_prestashop_order(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    deps = make_deps(notifications=_prestashop(stand_in.url))
    order = await _order_pickup(pool, state, 42)
    reservation = await new_pickup(pool, state, kind="reservation")
    for pickup_id in (order, reservation):
        await add_event(pool, pickup_id, "pickup.ready")
        await add_event(pool, pickup_id, "pickup.collected")
    await _settle_all(pool, deps)

    assert [_order_history(r) for r in stand_in.received] == [(42, 17), (42, 18)]
    token = base64.b64encode(f"{PS_KEY}:".encode()).decode()
    for received in stand_in.received:
        assert received.path == "/shop/api/order_histories"
        assert received.headers["Authorization"] == f"Basic {token}"
        assert received.headers["Content-Type"] == "text/xml"
        assert b'xmlns:xlink="http://www.w3.org/1999/xlink"' in received.body
    rows = await outbox_rows(pool, order)
    assert [r["kind"] for r in _rows(rows, "prestashop")] == ["pickup.ready", "pickup.collected"]
    assert all(r["status"] == "done" for r in rows)
    assert _rows(rows, "webhook") == []
    assert _rows(await outbox_rows(pool, reservation), "prestashop") == []


async def test_an_unset_state_and_an_order_without_id_are_skipped(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    deps = make_deps(notifications=_prestashop(stand_in.url, ready=0))
    order = await _order_pickup(pool, state, 43)
    no_id = await new_pickup(pool, state, kind="order")  # ps_order_id NULL
    for pickup_id in (order, no_id):
        await add_event(pool, pickup_id, "pickup.ready")
        await add_event(pool, pickup_id, "pickup.collected")
    await _settle_all(pool, deps)
    assert [_order_history(r) for r in stand_in.received] == [(43, 18)]
    assert _rows(await outbox_rows(pool, no_id), "prestashop") == []


async def test_a_refusal_from_prestashop_makes_the_row_dead(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    stand_in.answers = [(400, "<errors>Bad id_order_state</errors>")]
    deps = make_deps(notifications=_prestashop(stand_in.url))
    pickup_id = await _order_pickup(pool, state, 44)
    await add_event(pool, pickup_id, "pickup.ready")
    await _settle_all(pool, deps)
    assert len(stand_in.received) == 1
    [row] = _rows(await outbox_rows(pool, pickup_id), "prestashop")
    assert row["status"] == "dead" and row["attempts"] == 1
    assert row["last_error"] == "HTTP 400: <errors>Bad id_order_state</errors>"


# --------------------------------------------------------------------------- off
async def test_without_settings_no_follow_up_rows(
    pool: asyncpg.Pool, state: SimulatorState, make_deps: MakeDeps, stand_in: StandIn
) -> None:
    pickup_id = await _order_pickup(pool, state, 45)
    await add_event(pool, pickup_id, "pickup.ready")
    await add_event(pool, pickup_id, "pickup.collected")
    await _settle_all(pool, make_deps())
    await _settle_all(pool, make_deps(notifications=NotificationConfig()))
    rows = await outbox_rows(pool, pickup_id)
    assert {r["aggregate"] for r in rows} == {"pickup"}
    assert all(r["status"] == "done" for r in rows)
    assert stand_in.received == []
