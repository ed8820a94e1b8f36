"""A soak of ``omnistock serve``: the API process's memory is flat after warm-up (issue 18: it
grew in a straight line, about 4 KiB per distinct availability question, because the answer
cache counted a fraction of what it held and kept expired answers).

Rounds of GET /v1/availability with distinct query strings (as crawlers and varied product
pages send), with the resident set size of the server read after each round."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from service.usecases.access.keys import create_key
from tests.api.stock_fixtures import seed
from tests.integration.processes import free_port, wait_ready

pytestmark = pytest.mark.slow
ROUNDS, PER_ROUND, CONCURRENCY = 6, 800, 8
WARM_UP = 2  # rounds before the measure: pools, caches, code paths reach their steady state


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_api_memory_is_flat_after_warm_up(pool, database_url) -> None:
    await seed(pool)
    key, _ = await create_key(pool, "storefront")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "OMNISTOCK_LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rss: list[int] = []
    try:
        await wait_ready(base)
        headers = {"Authorization": f"Bearer {key}"}
        stores = ["PAR", "LYO", "MAR", "VER"]
        async with aiohttp.ClientSession(headers=headers) as http:
            n = 0
            for _ in range(ROUNDS):
                queue = list(range(n, n + PER_ROUND))
                n += PER_ROUND

                async def worker(queue: list[int] = queue) -> None:
                    while queue:
                        i = queue.pop()
                        query = f"sku=JEANS-32&store={stores[i % 4]}&quantity={1 + i % 3}&v={i}"
                        async with http.get(f"{base}/v1/availability?{query}") as resp:
                            assert resp.status == 200, await resp.text()
                            await resp.read()

                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
                rss.append(_rss_kib(server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
    growth = max(rss[WARM_UP:]) - rss[WARM_UP - 1]
    print(f"RSS per round (KiB): {rss}; growth after warm-up: {growth} KiB")
    assert growth < 6 * 1024, f"RSS per round (KiB): {rss}"
