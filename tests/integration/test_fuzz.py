"""Schemathesis over the whole OpenAPI document, against the real app (``omnistock serve``) on
PostgreSQL: 0 server errors, 0 answers outside their documented schema, 0 undocumented status
codes or content types.

The app runs as ``omnistock serve`` on the test's database, with the Cegid simulator as its ERP
and a small synced catalogue. Stateless runs (examples, coverage and fuzzing phases) with an
admin key and with a storefront key (each role gets other answers: 403 where the other gets
200), a stateful run with the admin key (schemathesis chains operations through the ids their
answers hold), and a last run of the key operations alone (see ``KEY_REVOCATION``).

Bounded: at most 20 examples per operation and a time budget per run, about two minutes in
all. The counts of each run (operations, test cases, failures) are printed:
``pytest -s tests/integration/test_fuzz.py`` shows them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from service.demo import directory_entry
from service.erp.cegid import CegidConfig, CegidErp
from service.erp.simulator import generate, serve_simulator, store_directory
from service.observability import Metrics
from service.usecases.access.keys import create_key
from service.usecases.stock import sync
from service.usecases.stock.sync import SyncContext
from stores import store_directory as directory_repo
from tests.integration.processes import free_port, wait_ready

pytestmark = pytest.mark.slow

ST = Path(sys.executable).with_name("st")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)
USER, PASSWORD, DB_ID = "omnistock", "secret", "DEMO"
# Revoking a key destroys the credentials of the run that does it when the key is its own:
# schemathesis reuses ids from answers (GET /v1/admin/keys lists the run's own key), and every
# later request of the run would be a 401 that exercises nothing. So the admin runs, stateless
# and stateful, leave revoke_key out, and a last run fuzzes the key operations alone with an
# admin key of its own (the last active admin key is refused with 409; others may go).
KEY_REVOCATION = ["revoke_key"]


@pytest.fixture
async def erp_url(pool) -> AsyncIterator[str]:
    """The Cegid simulator with a small catalogue, synced into the database."""
    state = generate(seed=18, stores=3, products=12)
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
        yield url


@dataclass
class Run:
    name: str
    key: str
    phases: str
    max_time: int
    extra: list[str] = field(default_factory=list)


async def _schemathesis(base: str, run: Run, workdir: Path) -> tuple[int, str, dict]:
    report = workdir / f"{run.name.replace(' ', '-')}.json"
    args = [
        "run",
        f"{base}/openapi.json",
        "--url",
        base,
        "-H",
        f"Authorization: Bearer {run.key}",
        "--checks",
        CHECKS,
        "--phases",
        run.phases,
        "--max-examples",
        "20",
        "--max-time",
        str(run.max_time),
        "--seed",
        "18",
        "--workers",
        "1",  # with more, hypothesis describing a strategy can hit a CPython 3.11 ast bug
        "--request-timeout",
        "10",
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *run.extra,
    ]
    proc = await asyncio.create_subprocess_exec(
        str(ST), *args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), run.max_time + 120)
    data = json.loads(report.read_text()) if report.exists() else {}
    return int(proc.returncode or 0), out.decode(errors="replace"), data


def _counts(data: dict, requests: int) -> str:
    ops, cases = data.get("operations", {}), data.get("test_cases", {})
    return (
        f"{ops.get('tested', 0)} operations, {requests} requests served, "
        f"{cases.get('generated', 0)} test cases, {cases.get('unique_failures', 0)} failures, "
        f"{len(data.get('errors', []))} errors"
    )


async def _served(base: str) -> int:
    """Requests the server has answered so far (its own counter, from /metrics)."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("omnistock_http_requests_total{")
        )
    )


# its four runs are given 105 s of fuzzing by design (--max-time), plus a server start and the
# hypothesis set-up of each run: the suite's default 120 s timeout left no room on a busy machine
@pytest.mark.timeout(300)
async def test_schemathesis_finds_nothing(pool, database_url, erp_url, tmp_path) -> None:
    admin, _ = await create_key(pool, "admin", label="fuzz-admin")
    storefront, _ = await create_key(pool, "storefront", label="fuzz-storefront")
    keys_admin, _ = await create_key(pool, "admin", label="fuzz-keys-admin")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OMNISTOCK_ERP_URL": erp_url,
        "OMNISTOCK_ERP_PASSWORD": PASSWORD,
        "OMNISTOCK_LOG_LEVEL": "ERROR",
        "OMNISTOCK_READ_THROUGH": "false",
    }
    env.pop("REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    no_revoke = [arg for op in KEY_REVOCATION for arg in ("--exclude-operation-id", op)]
    runs = [
        Run("admin", admin, "examples,coverage,fuzzing", 45, no_revoke),
        Run("storefront", storefront, "examples,coverage,fuzzing", 25),
        Run("admin stateful", admin, "stateful", 25, no_revoke),
        Run(
            "admin keys",
            keys_admin,
            "examples,coverage,fuzzing",
            10,
            ["--include-path-regex", "^/v1/admin/keys"],
        ),
    ]
    summary: list[str] = []
    failed: list[str] = []
    try:
        await wait_ready(base)
        for run in runs:
            before = await _served(base)
            rc, output, data = await _schemathesis(base, run, tmp_path)
            served = await _served(base) - before - 1  # less the /metrics read itself
            summary.append(f"schemathesis {run.name}: {_counts(data, served)}")
            if rc != 0:
                failed.append(f"== {run.name}\n{output[-15000:]}")
    finally:
        server.terminate()
        _, err = await server.communicate()
    print("\n".join(summary))
    assert not failed, "\n".join(failed)
    assert b"Traceback" not in err, err.decode()[-5000:]
