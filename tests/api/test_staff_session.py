"""The staff console's sessions over HTTP: cookie attributes, CSRF, expiry, revocation, replicas;
the console's files; the pickup list's search and counts; the pickup QR code."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import segno

from service.api.staff import ASSETS, preferred_language
from service.domain.pickup_scan import parse_scan_payload, scan_payload
from tests.api.stock_fixtures import seed
from tests.api.test_pickups import create, reservation
from tests.conftest import KeyFactory, bearer


@pytest.fixture
async def keys(pool, make_key: KeyFactory) -> dict[str, str]:
    await seed(pool)
    return {
        "storefront": await make_key("storefront"),
        "staff": await make_key("staff", ["PAR", "LYO"], label="till-1"),
        "admin": await make_key("admin"),
    }


def same_origin(client) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def sign_in(client, key: str) -> dict:
    resp = await client.post("/v1/staff/session", json={"key": key}, headers=same_origin(client))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_sign_in_sets_an_httponly_strict_cookie_and_never_returns_the_key(
    client, keys
) -> None:
    resp = await client.post(
        "/v1/staff/session", json={"key": keys["staff"]}, headers=same_origin(client)
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["label"] == "till-1" and body["idle_timeout_s"] == 3600
    assert [s["store_id"] for s in body["stores"]] == ["LYO", "PAR"]
    assert body["stores"][1]["name"] == "Omnistock Paris"
    assert keys["staff"] not in await resp.text()
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("omnistock_staff=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 40  # a 256-bit random token


async def test_secure_cookie_behind_tls(client, keys) -> None:
    headers = {**same_origin(client), "X-Forwarded-Proto": "https"}
    resp = await client.post("/v1/staff/session", json={"key": keys["staff"]}, headers=headers)
    assert resp.status == 201 and "Secure" in resp.headers["Set-Cookie"]


async def test_only_a_hash_of_the_session_token_is_stored(client, keys, pool) -> None:
    resp = await client.post(
        "/v1/staff/session", json={"key": keys["staff"]}, headers=same_origin(client)
    )
    token = resp.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    rows = await pool.fetch("SELECT token_hash FROM staff_sessions")
    assert len(rows) == 1 and token.encode() not in bytes(rows[0]["token_hash"])


@pytest.mark.parametrize(
    ("key", "status"), [("osk_unknown-key-123", 401), ("storefront", 403), ("admin", 403)]
)
async def test_sign_in_refusals(client, keys, pool, key: str, status: int) -> None:
    resp = await client.post(
        "/v1/staff/session", json={"key": keys.get(key, key)}, headers=same_origin(client)
    )
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert "Set-Cookie" not in resp.headers
    assert await pool.fetchval("SELECT count(*) FROM staff_sessions") == 0


async def test_cross_site_sign_in_is_refused(client, keys, pool) -> None:
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        resp = await client.post("/v1/staff/session", json={"key": keys["staff"]}, headers=headers)
        assert resp.status == 403, headers
        assert (await resp.json())["type"].endswith("cross-site-request")
    assert await pool.fetchval("SELECT count(*) FROM staff_sessions") == 0


async def test_session_reads_pickups_and_writes_need_origin_and_token(client, keys) -> None:
    session = await sign_in(client, keys["staff"])
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    resp = await client.get("/v1/stores/PAR/pickups")  # the cookie alone reads
    assert resp.status == 200 and [x["id"] for x in (await resp.json())["items"]] == [p["id"]]
    url = f"/v1/pickups/{p['id']}/ready"
    token = {"X-CSRF-Token": session["csrf_token"]}
    refusals = [
        same_origin(client),  # no token
        {**same_origin(client), "X-CSRF-Token": "forged"},
        {"Origin": "http://evil.example", **token},
        {**same_origin(client), **token, "Sec-Fetch-Site": "same-site"},
        token,  # no Origin at all
    ]
    for headers in refusals:
        resp = await client.post(url, headers=headers)
        assert resp.status == 403, headers
    assert (await (await client.get(f"/v1/pickups/{p['id']}")).json())["state"] == "confirmed"
    resp = await client.post(url, headers={**same_origin(client), **token, "X-Staff-Id": "Marie"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    actor = body["history"][-1]["actor"]
    # the key id is recorded always; the person picked in the console is its cleaned name
    assert body["state"] == "ready" and actor["name"] == "Marie" and actor["kind"] == "staff"


async def test_bearer_calls_are_not_cookie_checked(client, keys) -> None:
    await sign_in(client, keys["staff"])
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    # a bearer key wins over the cookie, and needs no CSRF token (no browser involved)
    resp = await client.post(f"/v1/pickups/{p['id']}/ready", headers=bearer(keys["staff"]))
    assert resp.status == 200


async def test_session_is_bound_to_the_keys_stores(client, keys, make_key) -> None:
    await sign_in(client, keys["staff"])
    theirs = await create(client, keys["storefront"], reservation(("JEANS-32", 1), store="VER"))
    assert (await client.get("/v1/stores/VER/pickups")).status == 403
    assert (await client.get(f"/v1/pickups/{theirs['id']}")).status == 403
    assert (await client.get("/v1/admin/keys")).status == 403  # a staff session is staff


async def test_sign_out_ends_the_session(client, keys) -> None:
    session = await sign_in(client, keys["staff"])
    assert (await client.delete("/v1/staff/session", headers=same_origin(client))).status == 403
    headers = {**same_origin(client), "X-CSRF-Token": session["csrf_token"]}
    resp = await client.delete("/v1/staff/session", headers=headers)
    assert resp.status == 204
    assert "omnistock_staff=" in resp.headers["Set-Cookie"]
    assert (await client.get("/v1/staff/session")).status == 401
    assert (await client.get("/v1/stores/PAR/pickups")).status == 401


async def test_idle_and_old_sessions_end(client, keys, pool) -> None:
    await sign_in(client, keys["staff"])
    assert (await client.get("/v1/staff/session")).status == 200
    await pool.execute("UPDATE staff_sessions SET last_seen_at = now() - interval '61 minutes'")
    resp = await client.get("/v1/stores/PAR/pickups")
    assert resp.status == 401 and (await resp.json())["type"].endswith("session-ended")
    await sign_in(client, keys["staff"])
    await pool.execute(
        "UPDATE staff_sessions SET created_at = now() - interval '13 hours' WHERE ended_at IS NULL"
    )
    assert (await client.get("/v1/staff/session")).status == 401


async def test_use_restarts_the_idle_clock(client, keys, pool) -> None:
    await sign_in(client, keys["staff"])
    await pool.execute("UPDATE staff_sessions SET last_seen_at = now() - interval '50 minutes'")
    assert (await client.get("/v1/stores/PAR/pickups")).status == 200
    await pool.execute(
        "UPDATE staff_sessions SET last_seen_at = last_seen_at - interval '50 minutes'"
    )  # 50 minutes since the last use, not 100
    assert (await client.get("/v1/staff/session")).status == 200


async def test_revoking_the_key_ends_its_sessions(client, keys, pool) -> None:
    await sign_in(client, keys["staff"])
    key_id = await pool.fetchval("SELECT key_id::text FROM staff_sessions")
    resp = await client.post(f"/v1/admin/keys/{key_id}/revoke", headers=bearer(keys["admin"]))
    assert resp.status == 200
    assert (await client.get("/v1/stores/PAR/pickups")).status == 401
    assert await pool.fetchval("SELECT count(*) FROM staff_sessions WHERE ended_at IS NULL") == 0


async def test_replicas_share_sessions(make_client, keys) -> None:
    """Two app instances on one database: a session made on one works on the other, and a
    sign-out on the other ends it for both."""
    one, two = await make_client(), await make_client()
    session = await sign_in(one, keys["staff"])
    jar = one.session.cookie_jar.filter_cookies(one.make_url("/"))
    cookie = {"Cookie": f"omnistock_staff={jar['omnistock_staff'].value}"}
    assert (await two.get("/v1/staff/session", headers=cookie)).status == 200
    headers = {**cookie, **same_origin(two), "X-CSRF-Token": session["csrf_token"]}
    assert (await two.delete("/v1/staff/session", headers=headers)).status == 204
    assert (await one.get("/v1/staff/session")).status == 401


async def test_the_console_is_small_same_origin_and_in_the_package(client) -> None:
    resp = await client.get("/staff/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert '<html lang="fr"' in page
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, no remote asset
    total = len(page.encode())
    for name in ASSETS:
        asset = await client.get(f"/staff/assets/{name}")
        assert asset.status == 200 and asset.content_type == ASSETS[name]
        total += len(await asset.read())
    assert total < 150_000, f"the first load is {total} bytes"
    assert (await client.get("/staff/assets/../settings.py")).status == 404
    assert (await client.get("/staff/assets/secret.txt")).status == 404
    bare = await client.get("/staff", allow_redirects=False)
    assert bare.status == 301 and bare.headers["Location"] == "/staff/"


@pytest.mark.parametrize(
    ("header", "lang"),
    [("", "en"), ("fr", "fr"), ("en-GB,fr;q=0.5", "en"), ("de, fr;q=0.4", "fr"), ("fr;q=0", "en")],
)
def test_preferred_language(header: str, lang: str) -> None:
    assert preferred_language(header) == lang


async def test_search_and_counts(client, keys, pool) -> None:
    ana = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    bob_body = reservation(("TSHIRT-RED-M", 1))
    bob_body["customer"] = {
        "email": "bob.stone@example.org",
        "first_name": "Bob",
        "last_name": "Stone",
    }
    bob = await create(client, keys["storefront"], bob_body)
    await create(client, keys["storefront"], reservation(("JEANS-32", 1), store="LYO"))
    await client.post(f"/v1/pickups/{bob['id']}/ready", headers=bearer(keys["staff"]))
    staff = bearer(keys["staff"])

    async def ids(query: str) -> tuple[list[str], dict[str, int]]:
        resp = await client.get(f"/v1/stores/PAR/pickups?{query}", headers=staff)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        return [x["id"] for x in body["items"]], body["counts"]

    found, counts = await ids("")
    assert set(found) == {ana["id"], bob["id"]}
    assert counts == {
        "confirmed": 1,
        "ready": 1,
        "collected": 0,
        "cancelled": 0,
        "expired": 0,
        "no_show": 0,
    }
    assert (await ids("q=STONE"))[0] == [bob["id"]]
    assert (await ids("q=bob.stone@"))[0] == [bob["id"]]
    assert (await ids("q=ana%20lopez"))[0] == [ana["id"]]
    assert (await ids("q=" + ana["id"][:8].upper()))[0] == [ana["id"]]
    assert (await ids("q=" + ana["id"][:3]))[0] == []  # too short for an id prefix
    found, counts = await ids("q=stone&state=confirmed")
    assert found == [] and counts["ready"] == 1 and counts["confirmed"] == 0
    assert (await ids("q=%25"))[0] == []  # LIKE wildcards are plain characters
    assert (await ids("q=_"))[0] == []
    await client.post(f"/v1/pickups/{ana['id']}/cancel", headers=bearer(keys["storefront"]))
    found, counts = await ids("closed_today=true&state=cancelled")
    assert found == [ana["id"]] and counts["cancelled"] == 1
    await pool.execute(
        "UPDATE pickups SET updated_at = now() - interval '2 days' WHERE id = $1::uuid", ana["id"]
    )
    found, counts = await ids("closed_today=true&state=cancelled")
    assert found == [] and counts["cancelled"] == 0
    assert (await ids("state=cancelled"))[0] == [ana["id"]]  # without the filter: all of them
    resp = await client.get("/v1/stores/PAR/pickups?q=" + "x" * 101, headers=staff)
    assert resp.status == 422


async def test_order_reference_search(client, keys) -> None:
    body = reservation(("JEANS-32", 1))
    body.update(kind="order", ps_order_reference="XKBKNABJK", ps_order_id=4242)
    body["lines"][0]["unit_price"] = "10.00"
    p = await create(client, keys["storefront"], body)
    for q in ("xkbknabjk", "4242"):
        resp = await client.get(f"/v1/stores/PAR/pickups?q={q}", headers=bearer(keys["staff"]))
        assert [x["id"] for x in (await resp.json())["items"]] == [p["id"]]


async def test_qr_code_of_the_pickup_id_and_code(client, keys) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    code = p["pickup_code"]
    url = f"/v1/pickups/{p['id']}/qr.svg"
    resp = await client.get(
        f"{url}?code={code[:4].lower()}-{code[4:].lower()}", headers=bearer(keys["storefront"])
    )
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    svg = await resp.read()
    payload = scan_payload(uuid.UUID(p["id"]), code)
    assert parse_scan_payload(payload) == (uuid.UUID(p["id"]), code)
    expected = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(
        expected, kind="svg", scale=4, border=4, title="Pickup QR code"
    )
    assert svg == expected.getvalue()  # the same symbol as segno draws for that payload
    wrong = await client.get(f"{url}?code=AAAAAAAA", headers=bearer(keys["storefront"]))
    assert wrong.status == 422
    # a staff key could use it to try codes without the attempt limit: not allowed
    assert (await client.get(f"{url}?code={code}", headers=bearer(keys["staff"]))).status == 403
    missing = f"/v1/pickups/{uuid.uuid4()}/qr.svg?code={code}"
    assert (await client.get(missing, headers=bearer(keys["storefront"]))).status == 404
    assert (await client.get(url, headers=bearer(keys["storefront"]))).status == 422


def test_scan_payload_parsing_tolerates_case_and_noise() -> None:
    pid = uuid.uuid4()
    text = scan_payload(pid, "abcd-efgh").lower() + "\n"
    assert parse_scan_payload(text) == (pid, "ABCDEFGH")
    assert parse_scan_payload("not ours") is None


async def test_wrong_code_says_attempts_left(client, keys) -> None:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    await client.post(f"/v1/pickups/{p['id']}/ready", headers=bearer(keys["staff"]))
    resp = await client.post(
        f"/v1/pickups/{p['id']}/collect", json={"code": "AAAAAAAA"}, headers=bearer(keys["staff"])
    )
    assert resp.status == 422 and (await resp.json())["attempts_left"] == 4


async def test_the_demo_prints_the_console_and_its_staff_key_signs_in(
    client, make_key, capsys
) -> None:
    from service.demo import DEMO_STAFF_STORES, _print_banner

    staff = await make_key("staff", DEMO_STAFF_STORES, label="demo-staff")
    keys = {"storefront": "osk_sf", "staff": staff, "admin": "osk_admin"}
    _print_banner(
        "127.0.0.1",
        8080,
        "http://127.0.0.1:8081",
        keys,
        [],
        "SKU-1",
        web_store="WEB",
        customer="C0000001",
        receipt="Receipt:S001:1010000001",
    )
    out = capsys.readouterr().out
    assert "staff console  http://127.0.0.1:8080/staff/" in out
    assert "/v1/customers/C0000001/receipts/Receipt:S001:1010000001" in out
    assert (await sign_in(client, staff))["stores"][0]["store_id"] == "S001"


async def test_openapi_documents_the_console_endpoints(client) -> None:
    spec = await (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/staff/session"]) == {"get", "post", "delete"}
    assert {"201", "401", "403", "422"} <= set(paths["/v1/staff/session"]["post"]["responses"])
    qr = paths["/v1/pickups/{pickup_id}/qr.svg"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(qr["responses"])
    assert "image/svg+xml" in qr["responses"]["200"]["content"]
    listing = paths["/v1/stores/{store_id}/pickups"]["get"]
    assert {"q", "closed_today", "state"} <= {p["name"] for p in listing["parameters"]}
    assert {"staffSession": []} in listing["security"]
    assert "counts" in spec["components"]["schemas"]["PickupList"]["properties"]
    assert spec["paths"]["/v1/admin/keys"]["get"]["security"] == [{"bearerAuth": []}]
