"""Health, readiness, metrics, OpenAPI, docs page, request ids and access logs."""

from __future__ import annotations

import json
import logging
import re

import pytest
from openapi_spec_validator import validate

from service.api.app import create_app
from service.api.appkeys import ENDPOINTS
from service.api.edge import UNMATCHED
from stores.db import create_pool
from tests.conftest import KeyFactory, bearer
from tests.tcp_proxy import TcpProxy


async def test_healthz(client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_readyz_when_current(client) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 200
    body = await resp.json()
    assert body == {
        "status": "ready",
        "database": "ok",
        "migrations": "current",
        "shutting_down": False,
    }


async def test_readyz_503_when_migrations_pending(
    aiohttp_client, settings, empty_database_url
) -> None:
    pool = await create_pool(empty_database_url, min_size=1, max_size=2)
    try:
        client = await aiohttp_client(create_app(settings, pool=pool))
        resp = await client.get("/readyz")
        assert resp.status == 503
        body = await resp.json()
        assert body["database"] == "ok" and body["migrations"].endswith("pending")
        await client.close()  # the app holds a LISTEN connection of this pool
    finally:
        await pool.close()


async def test_readyz_503_when_database_down_then_recovers(
    aiohttp_client, settings, database_url
) -> None:
    proxy = TcpProxy(database_url)
    await proxy.start()
    pool = await create_pool(proxy.dsn(), min_size=1, max_size=2, timeout=2)
    try:
        client = await aiohttp_client(create_app(settings, pool=pool))
        assert (await client.get("/readyz")).status == 200
        await proxy.stop()
        resp = await client.get("/readyz")
        assert resp.status == 503
        body = await resp.json()
        assert body["database"].startswith("unreachable")
        assert (await client.get("/healthz")).status == 200  # alive, just not ready
        await proxy.start()
        assert (await client.get("/readyz")).status == 200
        await client.close()  # the app holds a LISTEN connection of this pool
    finally:
        await pool.close()
        await proxy.stop()


async def test_metrics_count_requests_by_route(client) -> None:
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/v1/nope")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    line = re.search(
        r'omnistock_http_requests_total\{method="GET",route="healthz",'
        r'status="200"\} (\S+)',
        text,
    )
    assert line and float(line[1]) == 2.0
    assert 'route="unmatched",status="404"' in text
    assert "omnistock_http_request_duration_seconds_bucket" in text


async def test_openapi_is_valid_3_1_and_lists_every_route(client) -> None:
    resp = await client.get("/openapi.json")
    spec = await resp.json()
    validate(spec)  # raises on an invalid OpenAPI 3.1 document
    assert spec["openapi"] == "3.1.0"
    hidden = {ep.name for ep in client.app[ENDPOINTS].values() if not ep.documented}
    # the docs page's files and the staff console's page and files: HTML and assets, not API
    assert hidden == {"docs_asset", "staff_console_bare", "staff_console", "staff_asset"}
    routes = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes()
        if r.resource is not None and r.method != "HEAD" and r.name not in hidden | {UNMATCHED}
    }
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == documented
    create = spec["paths"]["/v1/admin/keys"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert "422" in create["responses"] and "KeyCreate" in json.dumps(create["requestBody"])


async def test_docs_page_is_self_contained(client) -> None:
    resp = await client.get("/docs")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert 'href="openapi.json"' in page and 'src="docs/assets/swagger-ui-bundle.js"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, no remote asset


async def test_request_id_is_echoed_or_generated(client) -> None:
    resp = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"
    resp = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])


async def test_access_log_is_structured(client, make_key: KeyFactory, caplog) -> None:
    caplog.set_level(logging.INFO, logger="omnistock.access")
    key = await make_key("admin")
    await client.get("/v1/admin/keys", headers={**bearer(key), "X-Request-Id": "log-1"})
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "log-1")
    assert record.route == "list_keys" and record.status == 200  # type: ignore[attr-defined]
    assert record.key_id and record.duration_ms >= 0  # type: ignore[attr-defined]
    from service.observability import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-1" and line["path"] == "/v1/admin/keys"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
async def test_ops_endpoints_need_no_key(client, path: str) -> None:
    assert (await client.get(path)).status == 200
