"""API key authentication: missing, malformed, wrong, revoked keys; roles; store scoping."""

from __future__ import annotations

from aiohttp import web

from service.api.auth import require_store_access
from service.api.edge import edge
from service.api.routing import Router
from tests.conftest import AppFactory, KeyFactory, bearer

UNAUTHORIZED = "urn:omnistock:problem:unauthorized"
FORBIDDEN = "urn:omnistock:problem:forbidden"


async def test_missing_key_is_401_with_challenge(client) -> None:
    resp = await client.get("/v1/admin/keys")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["type"] == UNAUTHORIZED
    assert "Bearer" in body["detail"]


async def test_wrong_scheme_is_401(client, make_key: KeyFactory) -> None:
    key = await make_key("admin")
    resp = await client.get("/v1/admin/keys", headers={"Authorization": f"Basic {key}"})
    assert resp.status == 401
    assert "Bearer <key>" in (await resp.json())["detail"]


async def test_unknown_key_is_401(client) -> None:
    resp = await client.get("/v1/admin/keys", headers=bearer("osk_not-a-real-key"))
    assert resp.status == 401
    assert (await resp.json())["detail"] == "the API key is unknown or revoked"


async def test_valid_admin_key_is_accepted(client, make_key: KeyFactory) -> None:
    key = await make_key("admin")
    resp = await client.get("/v1/admin/keys", headers=bearer(key))
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [i["role"] for i in items] == ["admin"]
    assert key not in await resp.text()  # keys are never listed


async def test_revoked_key_is_401(client, make_key: KeyFactory) -> None:
    admin = await make_key("admin")
    victim = await make_key("admin", label="to revoke")
    assert (await client.get("/v1/admin/keys", headers=bearer(victim))).status == 200
    listing = await (await client.get("/v1/admin/keys", headers=bearer(admin))).json()
    victim_id = next(i["id"] for i in listing["items"] if i["label"] == "to revoke")
    resp = await client.post(f"/v1/admin/keys/{victim_id}/revoke", headers=bearer(admin))
    assert resp.status == 200
    assert (await resp.json())["revoked_at"] is not None
    resp = await client.get("/v1/admin/keys", headers=bearer(victim))
    assert resp.status == 401


async def test_revoke_clears_the_key_cache(make_client: AppFactory, make_key: KeyFactory) -> None:
    client = await make_client(auth_cache_s=60)
    admin = await make_key("admin")
    victim = await make_key("admin", label="cached")
    assert (await client.get("/v1/admin/keys", headers=bearer(victim))).status == 200  # cached now
    items = (await (await client.get("/v1/admin/keys", headers=bearer(admin))).json())["items"]
    victim_id = next(i["id"] for i in items if i["label"] == "cached")
    await client.post(f"/v1/admin/keys/{victim_id}/revoke", headers=bearer(admin))
    assert (await client.get("/v1/admin/keys", headers=bearer(victim))).status == 401


async def test_role_not_allowed_is_403(client, make_key: KeyFactory) -> None:
    for role, stores in (("storefront", ()), ("staff", ("S001",))):
        key = await make_key(role, stores)
        resp = await client.get("/v1/admin/keys", headers=bearer(key))
        assert resp.status == 403, role
        body = await resp.json()
        assert body["type"] == FORBIDDEN
        assert role in body["detail"]


def _store_scoped_route(app: web.Application) -> None:
    router = Router()

    @router.route(
        "GET",
        "/v1/_test/stores/{store_id}",
        name="t_store",
        summary="test",
        roles=["staff", "admin"],
    )
    async def handler(request: web.Request) -> web.Response:
        require_store_access(request, request.match_info["store_id"])
        return web.json_response({"store": request.match_info["store_id"]})

    router.install(app, edge)


async def test_staff_keys_are_bound_to_their_stores(
    make_client: AppFactory, make_key: KeyFactory
) -> None:
    client = await make_client(_store_scoped_route)
    staff = await make_key("staff", ["S001", "S002"])
    admin = await make_key("admin")
    assert (await client.get("/v1/_test/stores/S001", headers=bearer(staff))).status == 200
    assert (await client.get("/v1/_test/stores/S002", headers=bearer(staff))).status == 200
    resp = await client.get("/v1/_test/stores/S003", headers=bearer(staff))
    assert resp.status == 403
    assert "S003" in (await resp.json())["detail"]
    assert (await client.get("/v1/_test/stores/S003", headers=bearer(admin))).status == 200


async def test_create_key_over_api_returns_it_once(client, make_key: KeyFactory) -> None:
    admin = await make_key("admin")
    resp = await client.post(
        "/v1/admin/keys",
        json={"role": "staff", "stores": ["S009"], "label": "till 9"},
        headers=bearer(admin),
    )
    assert resp.status == 201
    created = await resp.json()
    assert created["key"].startswith("osk_") and created["stores"] == ["S009"]
    listing = await (await client.get("/v1/admin/keys", headers=bearer(admin))).text()
    assert created["key"] not in listing and created["prefix"] in listing
    assert (await client.get("/v1/admin/keys", headers=bearer(created["key"]))).status == 403


async def test_staff_key_without_store_is_422_and_creates_nothing(
    client, make_key: KeyFactory, pool
) -> None:
    admin = await make_key("admin")
    before = await pool.fetchval("SELECT count(*) FROM api_keys")
    resp = await client.post("/v1/admin/keys", json={"role": "staff"}, headers=bearer(admin))
    assert resp.status == 422
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["stores"]
    assert await pool.fetchval("SELECT count(*) FROM api_keys") == before


async def test_revoking_an_unknown_key_is_404(client, make_key: KeyFactory) -> None:
    admin = await make_key("admin")
    for key_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        resp = await client.post(f"/v1/admin/keys/{key_id}/revoke", headers=bearer(admin))
        assert resp.status == 404
        assert key_id in (await resp.json())["detail"]
