"""Issue 18: what attacking the service found. Bad input is a problem+json 4xx that changes
nothing; PostgreSQL down is 503 with Retry-After, never 500."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiohttp import web
from pydantic import SecretStr

from service.api.app import create_app
from service.api.edge import edge
from service.usecases.pickups.code_seal import CodeSealer, context_of, shared_replay_secret
from stores.db import create_pool
from tests.api.stock_fixtures import seed
from tests.conftest import KeyFactory, bearer
from tests.tcp_proxy import TcpProxy

PROBLEM = "application/problem+json"
CUSTOMER = {"email": "ana@example.com", "first_name": "Ana"}
BIG = 2_147_483_648  # one over PostgreSQL's integer


@pytest.fixture
async def keys(pool, make_key: KeyFactory) -> dict[str, str]:
    await seed(pool)
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", ["PAR"], label="till-1"),
        "admin": await make_key("admin"),
    }


def _headers(key: str) -> dict[str, str]:
    return {**bearer(key), "Idempotency-Key": uuid.uuid4().hex}


def _pickup(**changes: object) -> dict:
    body: dict = {
        "kind": "reservation",
        "store_id": "PAR",
        "customer": dict(CUSTOMER),
        "lines": [{"sku": "JEANS-32", "quantity": 1}],
    }
    body.update(changes)
    return body


async def _problem(resp, status: int) -> dict:
    assert resp.status == status, await resp.text()
    assert resp.headers["Content-Type"].startswith(PROBLEM)
    return await resp.json()


async def _pickups(pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM pickups"))


# ------------------------------------------------------------------ NUL characters: 422
@pytest.mark.parametrize(
    "body",
    [
        _pickup(customer={**CUSTOMER, "first_name": "A\u0000na"}),
        _pickup(lines=[{"sku": "JEANS-32", "quantity": 1, "label": "x\u0000"}]),
        _pickup(store_id="P\u0000R"),
        _pickup(lines=[{"reference": "JEANS\u0000", "quantity": 1}]),
        _pickup(customer={**CUSTOMER, "note\u0000": "x"}),
    ],
)
async def test_a_nul_character_in_a_pickup_is_422_and_creates_nothing(
    client, keys, pool, body
) -> None:
    resp = await client.post("/v1/pickups", json=body, headers=_headers(keys["storefront"]))
    problem = await _problem(resp, 422)
    assert problem["errors"][0]["type"] == "string_nul"
    assert await _pickups(pool) == 0


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("GET", "/v1/availability?reference=JEANS%00&store=PAR", None),
        ("GET", "/v1/availability?sku=JEANS-32&store=PA%00R", None),
        ("POST", "/v1/availability", {"lines": [{"reference": "J\u0000"}], "stores": ["PAR"]}),
        ("POST", "/v1/availability", {"lines": [{"sku": "JEANS-32"}], "stores": ["P\u0000"]}),
        ("GET", "/v1/items/resolve?reference=%00", None),
        ("GET", "/v1/items/resolve?sku=%00", None),
        ("GET", "/v1/prices?reference=%00&store=PAR", None),
        ("GET", "/v1/stores/%00", None),
        ("GET", "/v1/stores/%00/pickups", None),
        ("DELETE", "/v1/admin/promotions/%00", None),
        ("GET", "/v1/pickups/%00", None),
    ],
)
async def test_a_nul_character_anywhere_is_422(client, keys, method, path, json) -> None:
    resp = await client.request(method, path, json=json, headers=_headers(keys["admin"]))
    problem = await _problem(resp, 422)
    assert "\u0000" not in problem["detail"]


# ------------------------------------------------------------------ integers: 422
@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("GET", f"/v1/items/resolve?ps_product={BIG}", None),
        ("GET", f"/v1/items/resolve?ps_product=1&ps_attribute={BIG}", None),
        ("GET", f"/v1/availability?ps_product={BIG}&store=PAR", None),
        ("GET", f"/v1/prices?ps_product={BIG}&store=PAR", None),
        ("POST", "/v1/availability", {"lines": [{"ps_product": BIG}], "stores": ["PAR"]}),
        ("POST", "/v1/pickups", _pickup(lines=[{"ps_product": BIG, "quantity": 1}])),
        ("POST", "/v1/pickups", _pickup(lines=[{"ps_product": 1, "ps_attribute": BIG}])),
        ("POST", "/v1/pickups", _pickup(kind="order", ps_order_id=BIG)),
        ("POST", "/v1/admin/mapping/import", [{"sku": "JEANS-32", "id_product": BIG}]),
        (
            "POST",
            "/v1/admin/mapping/import",
            [{"sku": "JEANS-32", "id_product": 1, "id_product_attribute": BIG}],
        ),
    ],
)
async def test_integers_beyond_the_columns_are_422(client, keys, pool, method, path, json) -> None:
    resp = await client.request(method, path, json=json, headers=_headers(keys["admin"]))
    await _problem(resp, 422)
    assert await _pickups(pool) == 0


async def test_the_openapi_document_bounds_those_integers(client) -> None:
    spec = await (await client.get("/openapi.json")).json()
    line = spec["components"]["schemas"]["PickupLineIn"]["properties"]["ps_product"]
    assert 2_147_483_647 in [x.get("maximum") for x in line["anyOf"]]


# ------------------------------------------------------------------ strict types: 422
@pytest.mark.parametrize("quantity", ["1", True, 1.0, "one"])
async def test_numbers_are_numbers(client, keys, pool, quantity) -> None:
    body = _pickup(lines=[{"sku": "JEANS-32", "quantity": quantity}])
    resp = await client.post("/v1/pickups", json=body, headers=_headers(keys["storefront"]))
    await _problem(resp, 422)
    assert await _pickups(pool) == 0


async def test_strict_types_still_take_decimal_strings_and_dates(client, keys) -> None:
    body = _pickup(kind="order", lines=[{"sku": "JEANS-32", "quantity": 1, "unit_price": "9.90"}])
    resp = await client.post("/v1/pickups", json=body, headers=_headers(keys["storefront"]))
    assert resp.status == 201, await resp.text()


async def test_a_body_that_is_not_json_is_still_400(client, keys) -> None:
    resp = await client.post(
        "/v1/pickups",
        data=b"{nope",
        headers={**_headers(keys["storefront"]), "Content-Type": "application/json"},
    )
    await _problem(resp, 400)


# ------------------------------------------------------------------ aiohttp's own limits: 400
async def test_an_oversized_header_is_a_problem_that_does_not_echo_it(client) -> None:
    secret = "Z" * 9000
    resp = await client.get("/healthz", headers={"X-Big": secret})
    problem = await _problem(resp, 400)
    assert "ZZZZ" not in await resp.text()
    assert problem["type"].endswith("bad-request")


async def test_an_oversized_url_is_a_problem_that_does_not_echo_it(client) -> None:
    resp = await client.get("/v1/stores?q=" + "Q" * 9000)
    await _problem(resp, 400)
    assert "QQQQ" not in await resp.text()


# ------------------------------------------------------------------ PostgreSQL down: 503
async def test_postgresql_down_is_503_with_retry_after_then_recovers(
    aiohttp_client, settings, database_url, pool, make_key: KeyFactory
) -> None:
    await seed(pool)
    key = await make_key("admin")
    proxy = TcpProxy(database_url)
    await proxy.start()
    proxied = await create_pool(proxy.dsn(), min_size=2, max_size=4, timeout=2)
    try:
        client = await aiohttp_client(create_app(settings, pool=proxied))
        paths = [
            "/v1/stores",
            "/v1/stores/PAR",
            "/v1/admin/keys",
            "/v1/pickups/" + str(uuid.uuid4()),
        ]
        for path in paths:
            assert (await client.get(path, headers=bearer(key))).status in (200, 404)
        await proxy.stop()  # open connections cut (a restart), new ones refused (a stop)
        for _ in range(2):
            for path in paths:
                resp = await client.get(path, headers=bearer(key))
                problem = await _problem(resp, 503)
                assert problem["type"].endswith("service-unavailable")
                assert int(resp.headers["Retry-After"]) >= 1
        body = _pickup()
        resp = await client.post("/v1/pickups", json=body, headers=_headers(key))
        await _problem(resp, 503)
        await proxy.start()
        for _ in range(50):
            if (await client.get("/v1/stores", headers=bearer(key))).status == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("never recovered")
        await client.close()
    finally:
        await proxied.close()
        await proxy.stop()


async def test_refused_database_connections_are_503(aiohttp_client, settings) -> None:
    """Refused connections on every acquire (PostgreSQL stopped before any connection)."""
    proxy = TcpProxy(settings.database_url or "")
    await proxy.start()
    proxied = await create_pool(proxy.dsn(), min_size=0, max_size=2, timeout=2)
    await proxy.stop()
    try:
        client = await aiohttp_client(create_app(settings, pool=proxied))
        resp = await client.get("/v1/stores", headers=bearer("x" * 40))
        await _problem(resp, 503)
        assert resp.headers["Retry-After"]
        await client.close()
    finally:
        await proxied.close()


# ------------------------------------------------------------------ who did it
async def _key_id(pool, label: str) -> str:
    return str(await pool.fetchval("SELECT id::text FROM api_keys WHERE label = $1", label))


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("admin:root", "admin:root"),
        ("  Marie\u200b  Curie\t", "Marie Curie"),
        ("", "till-1"),
    ],
)
async def test_history_records_the_key_and_a_cleaned_name_apart(
    client, keys, pool, header, name
) -> None:
    created = await (
        await client.post("/v1/pickups", json=_pickup(), headers=_headers(keys["storefront"]))
    ).json()
    staff = {**bearer(keys["staff"]), "X-Staff-Id": header.encode("utf-8").decode("latin-1")}
    resp = await client.post(f"/v1/pickups/{created['id']}/ready", headers=staff)
    assert resp.status == 200, await resp.text()
    actor = (await resp.json())["history"][-1]["actor"]
    key_id = await _key_id(pool, "till-1")
    assert actor["kind"] == "staff" and actor["id"] == key_id
    assert actor["name"] == name
    row = await pool.fetchrow(
        "SELECT actor_id, actor_name FROM pickup_history WHERE event = 'mark_ready'"
    )
    assert (row["actor_id"], row["actor_name"]) == (key_id, name)


# ------------------------------------------------------------------ admin lock-out, unknown store
async def test_the_last_admin_key_cannot_revoke_itself(client, pool, make_key: KeyFactory) -> None:
    await make_key("staff", ["PAR"], label="till")
    admin = await make_key("admin", label="only-admin")
    own = await _key_id(pool, "only-admin")
    resp = await client.post(f"/v1/admin/keys/{own}/revoke", headers=bearer(admin))
    problem = await _problem(resp, 409)
    assert "last active admin key" in problem["detail"]
    assert await pool.fetchval("SELECT revoked_at FROM api_keys WHERE id::text = $1", own) is None
    assert (await client.get("/v1/admin/keys", headers=bearer(admin))).status == 200
    # with a second admin key, it may: the operator keeps a way in
    await make_key("admin", label="second-admin")
    resp = await client.post(f"/v1/admin/keys/{own}/revoke", headers=bearer(admin))
    assert resp.status == 200 and (await resp.json())["revoked_at"]


async def test_two_admins_revoking_each_other_at_once_leave_one(
    client, pool, make_key: KeyFactory
) -> None:
    a, b = await make_key("admin", label="a"), await make_key("admin", label="b")
    ids = await _key_id(pool, "a"), await _key_id(pool, "b")
    answers = await asyncio.gather(
        client.post(f"/v1/admin/keys/{ids[1]}/revoke", headers=bearer(a)),
        client.post(f"/v1/admin/keys/{ids[0]}/revoke", headers=bearer(b)),
    )
    assert sorted(r.status for r in answers) in ([200, 401], [200, 409])
    active = "SELECT count(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL"
    assert await pool.fetchval(active) == 1


async def test_listing_the_pickups_of_an_unknown_store_is_404(client, keys) -> None:
    resp = await client.get("/v1/stores/NOPE/pickups", headers=bearer(keys["admin"]))
    await _problem(resp, 404)
    resp = await client.get("/v1/stores/LYO/pickups", headers=bearer(keys["admin"]))
    assert resp.status == 200 and (await resp.json())["items"] == []


# ------------------------------------------------------------------ pickup codes at rest
async def test_the_stored_replay_holds_the_pickup_code_sealed(client, keys, pool) -> None:
    headers = _headers(keys["storefront"])
    first = await (await client.post("/v1/pickups", json=_pickup(), headers=headers)).json()
    code = first["pickup_code"]
    stored = await pool.fetchval("SELECT response::text FROM idempotency_keys")
    assert code not in stored and "pickup_code_sealed" in stored
    again = await client.post("/v1/pickups", json=_pickup(), headers=headers)
    assert again.status == 201 and (await again.json()) == first  # the code, replayed


async def test_a_replay_under_another_replay_key_has_no_code(make_client, keys, pool) -> None:
    headers = _headers(keys["storefront"])
    one = await make_client(replay_key=SecretStr("first key " * 4))
    first = await (await one.post("/v1/pickups", json=_pickup(), headers=headers)).json()
    other = await make_client(replay_key=SecretStr("another key " * 4))
    again = await (await other.post("/v1/pickups", json=_pickup(), headers=headers)).json()
    assert again["id"] == first["id"] and again["pickup_code"] is None


def test_a_sealed_code_opens_only_with_its_key_and_context() -> None:
    sealer = CodeSealer(b"k" * 32)
    sealed = sealer.seal("ABCD1234", context_of("principal", "key-1"))
    assert "ABCD1234" not in sealed
    assert sealer.open(sealed, context_of("principal", "key-1")) == "ABCD1234"
    assert sealer.open(sealed, context_of("principal", "key-2")) is None
    assert CodeSealer(b"x" * 32).open(sealed, context_of("principal", "key-1")) is None
    assert sealer.open("v1.garbage", "x") is None
    rotated = CodeSealer(b"x" * 32, previous=[b"k" * 32])  # the former key still opens
    assert rotated.open(sealed, context_of("principal", "key-1")) == "ABCD1234"


def test_without_a_configured_key_one_is_kept_in_the_data_dir(tmp_path) -> None:
    first, shared = shared_replay_secret("", tmp_path)
    assert len(first) >= 32 and shared_replay_secret("", tmp_path) == (first, True) and shared
    assert (tmp_path / "replay.key").stat().st_mode & 0o077 == 0
    assert shared_replay_secret("configured", tmp_path) == (b"configured", True)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_every_connection_level_database_error_is_503(make_client, error) -> None:
    async def fails(request: web.Request) -> web.Response:
        raise error

    client = await make_client(lambda app: app.router.add_get("/test/db", edge(app, fails)))
    resp = await client.get("/test/db")
    problem = await _problem(resp, 503)
    assert problem["type"].endswith("service-unavailable") and resp.headers["Retry-After"]


async def test_the_openapi_document_lists_what_any_request_can_get(client) -> None:
    spec = await (await client.get("/openapi.json")).json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "400" in op["responses"], (method, path)
            if "{" in path:
                assert "422" in op["responses"], (method, path)
            if op["security"]:
                retry = op["responses"]["503"]["headers"]["Retry-After"]
                assert retry["schema"]["type"] == "integer", (method, path)


@pytest.mark.parametrize("optimistic", [3, 0], ids=["optimistic", "locked"])
async def test_a_pickup_created_by_an_admin_names_the_person_apart(
    make_client, pool, keys, optimistic
) -> None:
    client = await make_client(pickup_optimistic_attempts=optimistic)
    headers = {**_headers(keys["admin"]), "X-Staff-Id": "admin:root"}
    for attempt in range(2):  # created, then replayed
        resp = await client.post("/v1/pickups", json=_pickup(), headers=headers)
        assert resp.status == 201, await resp.text()
        actor = (await resp.json())["history"][0]["actor"]
        assert actor["name"] == "admin:root" and actor["id"].startswith("admin:"), attempt
    row = await pool.fetchrow("SELECT actor_id, actor_name FROM pickup_history")
    assert (row["actor_id"], row["actor_name"]) == (actor["id"], "admin:root")
    assert row["actor_id"] != "admin:admin:root"


@pytest.mark.parametrize("raw", [b'{"lat": NaN, "lng": 2}', b'{"lat": 1, "lng": Infinity}'])
async def test_nan_and_infinity_are_not_json(client, keys, raw) -> None:
    body = b'{"lines": [{"sku": "JEANS-32"}], "near": ' + raw + b"}"
    resp = await client.post(
        "/v1/availability",
        data=body,
        headers={**bearer(keys["storefront"]), "Content-Type": "application/json"},
    )
    await _problem(resp, 400)
