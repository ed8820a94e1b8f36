"""Two API processes and two worker processes on one PostgreSQL, against the Cegid simulator:
no oversell, every pickup posted once, cache invalidation seen by both APIs, and a SIGTERM to
one API process during load loses no accepted request."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from service.demo import directory_entry
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import SimulatorState, generate, serve_simulator, store_directory
from service.observability import Metrics
from service.usecases.access.keys import create_key
from service.usecases.stock import sync
from service.usecases.stock.sync import SyncContext
from stores import store_directory as directory_repo
from tests.api.stock_fixtures import set_stock

pytestmark = pytest.mark.slow
USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def world(pool, database_url) -> AsyncIterator[tuple[SimulatorState, str]]:
    state = generate(seed=3, stores=3, products=12)
    state.set_on_hand("S001", 0, 10)
    async with serve_simulator(state, database_id=DB_ID, users={USER: PASSWORD}) as url:
        erp = await CegidErp.create(
            CegidConfig(base_url=url, database_id=DB_ID, username=USER, password=PASSWORD)
        )
        async with pool.acquire() as conn:
            for store in store_directory(state):
                await directory_repo.upsert(conn, directory_entry(store))
        ctx = SyncContext(pool=pool, erp=erp, metrics=Metrics())
        await sync.items_pass(ctx)
        await sync.full_stock_pass(ctx)
        await erp.aclose()
        yield state, url


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _ready(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with http.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{base} never became ready")


async def test_two_apis_two_workers(world, pool, database_url) -> None:
    state, sim_url = world
    sku = state.items[0].sku
    key, _ = await create_key(pool, "storefront")
    auth = {"Authorization": f"Bearer {key}"}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OMNISTOCK_ERP_URL": sim_url,
        "OMNISTOCK_ERP_PASSWORD": PASSWORD,
        "OMNISTOCK_LOG_LEVEL": "WARNING",
        "OMNISTOCK_WORKER_METRICS_PORT": "0",
        "OMNISTOCK_OUTBOX_INTERVAL_S": "0.2",
        "OMNISTOCK_SYNC_FULL_INTERVAL_S": "2",
        "OMNISTOCK_SYNC_HOT_INTERVAL_S": "1",
        "OMNISTOCK_READ_THROUGH": "false",
    }
    ports = [_port(), _port()]
    procs = [_start(["serve", "--port", str(p)], env) for p in ports]
    procs += [_start(["worker"], env), _start(["worker"], env)]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    connector = aiohttp.TCPConnector(force_close=True)  # one connection per request
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            for base in bases:
                await _ready(http, base)

            async def reserve(i: int) -> int:
                body = {
                    "kind": "reservation",
                    "store_id": "S001",
                    "customer": {"email": f"c{i}@example.com"},
                    "lines": [{"sku": sku, "quantity": 1}],
                }
                headers = {**auth, "Idempotency-Key": f"mp-{i}"}
                async with http.post(
                    f"{bases[i % 2]}/v1/pickups", json=body, headers=headers
                ) as resp:
                    return resp.status

            statuses = await asyncio.gather(*(reserve(i) for i in range(60)))
            assert statuses.count(201) == 10 and statuses.count(409) == 50

            # every pickup reaches the ERP exactly once, whichever worker posts it
            for _ in range(200):
                pending = await pool.fetchval("SELECT count(*) FROM outbox WHERE status <> 'done'")
                if pending == 0:
                    break
                await asyncio.sleep(0.1)
            assert pending == 0
            async with http.get(f"{sim_url}/_sim/documents") as resp:
                docs = await resp.json()
            refs = [
                d["internal_reference"]
                for d in (docs["documents"] if isinstance(docs, dict) else docs)
            ]
            assert len(refs) == 10 and len(set(refs)) == 10

            # a change written anywhere is seen by both API processes
            other = state.items[5].sku
            url = f"/v1/availability?sku={other}&store=S002"
            for base in bases:
                async with http.get(base + url, headers=auth) as resp:
                    assert resp.status == 200
            await set_stock(pool, "S002", other, 4321)
            for base in bases:
                for _ in range(100):
                    async with http.get(base + url, headers=auth) as resp:
                        if (await resp.json())["stores"][0]["available"] == 4321:
                            break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"{base} kept a stale cache entry")

            # rolling restart: SIGTERM one API during load; accepted requests all succeed
            outcomes: list[str] = []

            async def load(n: int) -> None:
                for i in range(n):
                    try:
                        async with http.get(bases[i % 2] + url, headers=auth) as resp:
                            await resp.read()
                            outcomes.append("ok" if resp.status == 200 else str(resp.status))
                    except aiohttp.ClientConnectorError:
                        outcomes.append("refused")  # never accepted: the client retries
                    except aiohttp.ClientError as exc:
                        outcomes.append(f"lost: {exc!r}")

            task = asyncio.gather(*(load(100) for _ in range(4)))
            await asyncio.sleep(0.3)
            procs[0].send_signal(signal.SIGTERM)
            await task
            assert [o for o in outcomes if o not in ("ok", "refused")] == []
            assert outcomes.count("ok") > 200
            assert await asyncio.wait_for(asyncio.to_thread(procs[0].wait), 30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 20)
            except TimeoutError:
                proc.kill()
