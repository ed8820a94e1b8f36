"""A real omnistock for the PrestaShop module's tests: ``omnistock demo`` (simulator, sync, API)
on free loopback ports and a fresh database, with a known PrestaShop scenario.

Run as ``python -m tests.prestashop.omnistock_server``: it prints one JSON line (URLs, API keys,
the scenario) once the stock of the scenario is visible through the API, then runs until its
standard input closes (the PHPUnit bootstrap or the pytest fixture holds it), and cleans up: the
demo stopped, its database dropped.

The scenario, set in the simulator (Cegid) and read back through omnistock's own sync:
PrestaShop product 1 has two combinations, product 2 none; stock per store below. The demo's
e-commerce store (WEB) is in the directory too, with no service and no position; and S003
(Marseille) offers reservation only, so that the module's store lists can be seen to keep to
the stores offering the service at hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
STORES = [f"S{n:03d}" for n in range(1, 13)]
RESERVATION_ONLY = "S003"
MARSEILLE = {"lat": 43.2965, "lng": 5.3698, "radius_km": 50, "limit": 5}
# The fields of GET /v1/stores/{id} that PUT /v1/admin/stores/{id} takes back.
STORE_FIELDS = [
    "name",
    "address",
    "city",
    "postcode",
    "country",
    "latitude",
    "longitude",
    "timezone",
    "opening_hours",
    "services",
    "pickup_capacity_per_day",
    "hold_hours",
    "warehouse_id",
    "active",
]
# sku -> (PrestaShop id_product, id_product_attribute, reference, stock in S001..S012)
SCENARIO: dict[str, tuple[int, int, str, list[int]]] = {
    "SN00001-ROU-38": (1, 1, "PS-1-1", [8, 2, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]),
    "SN00001-ROU-39": (1, 2, "PS-1-2", [0, 6, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    "SN00001-ROU-40": (2, 0, "PS-2-0", [3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0]),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(url: str, body: Any = None, key: str = "", timeout: float = 5.0, method: str = "") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


async def _database(admin: str, name: str, create: bool) -> None:
    conn = await asyncpg.connect(admin)
    try:
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def running_omnistock() -> Iterator[dict[str, Any]]:
    """Start the demo; yield its URLs, keys and scenario; stop it and drop its database."""
    admin = os.environ.get("DATABASE_URL", "")
    env = dict(os.environ)
    db_name = ""
    tmp = tempfile.TemporaryDirectory(prefix="omnistock-ps-")
    if admin:
        db_name = f"omnistock_ps_{uuid.uuid4().hex[:12]}"
        asyncio.run(_database(admin, db_name, True))
        env["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + db_name
    else:
        env.pop("DATABASE_URL", None)
        env["OMNISTOCK_DATA_DIR"] = tmp.name
    api_port, erp_port = free_port(), free_port()
    env["OMNISTOCK_ERP_URL"] = f"http://127.0.0.1:{erp_port}"
    env["OMNISTOCK_LOG_LEVEL"] = "WARNING"
    log_path = Path(tmp.name) / "demo.log"
    log = log_path.open("w+")
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/omnistock"), "demo", "--port", str(api_port), "--products", "300"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        info = _wait_for_banner(proc, log_path, api_port, env["OMNISTOCK_ERP_URL"])
        _install_scenario(info)
        yield info
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        if db_name:
            asyncio.run(_database(admin, db_name, False))
        tmp.cleanup()


def _wait_for_banner(
    proc: subprocess.Popen[bytes], log_path: Path, port: int, erp_url: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        keys = dict(re.findall(r"^\s+(storefront|staff|admin)\s+(osk_\S+)", text, re.M))
        if len(keys) == 3:
            return {
                "url": f"http://127.0.0.1:{port}",
                "erp_url": erp_url,
                "keys": keys,
                "stores": STORES,
                "reservation_only": RESERVATION_ONLY,
                "scenario": [
                    {"sku": sku, "id_product": p, "id_product_attribute": a, "reference": r}
                    | {"stock": dict(zip(STORES, stock, strict=True))}
                    for sku, (p, a, r, stock) in SCENARIO.items()
                ],
            }
        if proc.poll() is not None:
            raise RuntimeError(f"omnistock demo exited:\n{text[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError("omnistock demo did not start in 120 s")


def _install_scenario(info: dict[str, Any]) -> None:
    """PrestaShop keys on our items (mapping import), stock in the simulator, then wait until
    omnistock's hot sync shows it."""
    url, admin, sf = info["url"], info["keys"]["admin"], info["keys"]["storefront"]
    rows = [
        {"sku": sku, "id_product": p, "id_product_attribute": a, "reference": r}
        for sku, (p, a, r, _) in SCENARIO.items()
    ]
    _call(f"{url}/v1/admin/mapping/import", rows, admin)
    store = _call(f"{url}/v1/stores/{RESERVATION_ONLY}", key=admin)
    fields = {k: store[k] for k in STORE_FIELDS} | {"services": ["reservation"]}
    _call(f"{url}/v1/admin/stores/{RESERVATION_ONLY}", fields, admin, method="PUT")
    changes = [
        {"store_id": store, "sku": sku, "qty": qty}
        for sku, (_, _, _, stock) in SCENARIO.items()
        for store, qty in zip(STORES, stock, strict=True)
    ]
    _call(f"{info['erp_url']}/_sim/stock/batch", {"changes": changes})
    lines = [{"sku": sku} for sku in SCENARIO]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = _call(f"{url}/v1/availability", {"lines": lines, "stores": STORES}, sf)
        seen = {
            line["item"]["sku"]: [
                next(c["available"] for c in line["stores"] if c["store_id"] == s) for s in STORES
            ]
            for line in got["lines"]
        }
        collect = _call(  # the availability's store directory is cached for a while
            f"{url}/v1/availability",
            {"lines": lines[:1], "near": MARSEILLE, "service": "click_and_collect"},
            sf,
        )
        directory_fresh = all(c["store_id"] != RESERVATION_ONLY for c in collect["stores"])
        if directory_fresh and all(
            seen[sku] == stock for sku, (_, _, _, stock) in SCENARIO.items()
        ):
            return
        time.sleep(0.5)
    raise RuntimeError("the scenario's stock did not reach omnistock in 60 s")


def main() -> int:
    with running_omnistock() as info:
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
