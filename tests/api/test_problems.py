"""Every error is RFC 9457 problem+json with a stable type; bad input changes nothing."""

from __future__ import annotations

import pytest
from aiohttp import web

from service.api.appkeys import ROUTE_METRICS
from service.api.edge import edge
from service.api.routing import Router
from service.errors import Conflict
from tests.conftest import AppFactory, KeyFactory, bearer

BASE = "urn:omnistock:problem:"


async def _problem(resp, status: int, slug: str) -> dict:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["type"] == BASE + slug
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == resp.headers["X-Request-Id"]
    return body


def _failing_routes(app: web.Application) -> None:
    router = Router()

    @router.route("GET", "/v1/_test/conflict", name="t_conflict", summary="t")
    async def conflict(request: web.Request) -> web.Response:
        raise Conflict("that pickup is already collected", current_state="collected")

    @router.route("GET", "/v1/_test/boom", name="t_boom", summary="t")
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    router.install(app, edge)


async def test_400_body_not_json(client, make_key: KeyFactory) -> None:
    resp = await client.post(
        "/v1/admin/keys",
        data=b"{not json",
        headers={**bearer(await make_key("admin")), "Content-Type": "application/json"},
    )
    body = await _problem(resp, 400, "bad-request")
    assert "not valid JSON" in body["detail"]


async def test_401_403_404_405(client, make_key: KeyFactory) -> None:
    await _problem(await client.get("/v1/admin/keys"), 401, "unauthorized")
    storefront = await make_key("storefront")
    await _problem(await client.get("/v1/admin/keys", headers=bearer(storefront)), 403, "forbidden")
    body = await _problem(await client.get("/v1/nothing-here"), 404, "not-found")
    assert body["instance"] == "/v1/nothing-here"
    resp = await client.delete("/v1/admin/keys")
    body = await _problem(resp, 405, "method-not-allowed")
    assert "GET" in resp.headers["Allow"] and "POST" in resp.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    ["/v1/admin/outbox/%0A", "/v1/admin/outbox/a%0Db", "/%0A", "/v1/x/%0A/y", "/v1//x", "/no/"],
)
async def test_any_path_no_route_takes_is_a_problem_404(client, path: str) -> None:
    """No route: the catch-all answers (service.api.edge), whatever the path holds."""
    resp = await client.get(path)
    await _problem(resp, 404, "not-found")
    resp = await client.post(path, json={})
    await _problem(resp, 404, "not-found")


async def test_unmatched_requests_are_counted_and_logged(client) -> None:
    await client.get("/v1/nothing-here")
    metrics = client.app[ROUTE_METRICS]
    assert metrics._count[("unmatched", "GET", 404)] >= 1


async def test_409_carries_extra_members(make_client: AppFactory) -> None:
    client = await make_client(_failing_routes)
    body = await _problem(await client.get("/v1/_test/conflict"), 409, "conflict")
    assert body["current_state"] == "collected"


async def test_413_declared_and_streamed(
    make_client: AppFactory, make_key: KeyFactory, pool
) -> None:
    client = await make_client(max_body_bytes=2048)
    admin = bearer(await make_key("admin"))
    big = b'{"role": "admin", "label": "' + b"x" * 5000 + b'"}'
    headers = {**admin, "Content-Type": "application/json"}
    await _problem(
        await client.post("/v1/admin/keys", data=big, headers=headers), 413, "payload-too-large"
    )

    async def chunks():  # no Content-Length: aiohttp's own limit must catch it
        for _ in range(10):
            yield b"x" * 1000

    await _problem(
        await client.post("/v1/admin/keys", data=chunks(), headers=headers),
        413,
        "payload-too-large",
    )
    assert await pool.fetchval("SELECT count(*) FROM api_keys") == 1  # only the admin key


async def test_415_wrong_content_type(client, make_key: KeyFactory) -> None:
    resp = await client.post(
        "/v1/admin/keys",
        data="role=admin",
        headers={
            **bearer(await make_key("admin")),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    await _problem(resp, 415, "unsupported-media-type")


async def test_422_lists_field_errors(client, make_key: KeyFactory, pool) -> None:
    resp = await client.post(
        "/v1/admin/keys",
        json={"role": "owner", "stores": "S1"},
        headers=bearer(await make_key("admin")),
    )
    body = await _problem(resp, 422, "validation-error")
    locs = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locs == [("role",), ("stores",)]
    assert await pool.fetchval("SELECT count(*) FROM api_keys") == 1


async def test_422_on_query_parameters(client, make_key: KeyFactory) -> None:
    resp = await client.get(
        "/v1/admin/keys?include_revoked=maybe", headers=bearer(await make_key("admin"))
    )
    body = await _problem(resp, 422, "validation-error")
    assert body["errors"][0]["loc"] == ["include_revoked"]


async def test_500_hides_internals_and_logs(make_client: AppFactory, caplog) -> None:
    client = await make_client(_failing_routes)
    resp = await client.get("/v1/_test/boom", headers={"X-Request-Id": "req-42"})
    body = await _problem(resp, 500, "internal-error")
    assert "secret" not in await resp.text()
    assert body["request_id"] == "req-42"
    assert any(r.getMessage() == "unhandled error" and r.exc_info for r in caplog.records)
