"""The store directory over HTTP: admin writes (all or nothing), reads, "near me", pagination."""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.usecases.catalog import store_directory as stores
from service.usecases.catalog.store_model import validate_entries
from tests.conftest import KeyFactory, bearer

VALIDATION = "urn:omnistock:problem:validation-error"
# Rows copied from /work/shared/data/fr_cities.csv: city, postcode, latitude, longitude.
CITIES = {
    "PAR": ("Paris", "75001", 48.8566, 2.3522),
    "VER": ("Versailles", "78000", 48.8049, 2.1204),
    "REI": ("Reims", "51100", 49.2583, 4.0317),
    "LIL": ("Lille", "59000", 50.6292, 3.0573),
    "LYO": ("Lyon", "69001", 45.7640, 4.8357),
}
PARIS = "48.8566,2.3522"
WEEKDAYS_9_19 = {day: [["09:30", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Independent ground truth: the spherical law of cosines (not the service's haversine)."""
    (lat1, lng1), (lat2, lng2) = (tuple(map(math.radians, p)) for p in (a, b))
    cos = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(lng2 - lng1)
    return 6371.0088 * math.acos(min(1.0, cos))


def city_store(code: str, **extra: Any) -> dict[str, Any]:
    city, postcode, lat, lng = CITIES[code]
    return {
        "store_id": code,
        "name": f"Omni {city}",
        "city": city,
        "postcode": postcode,
        "latitude": lat,
        "longitude": lng,
        "opening_hours": WEEKDAYS_9_19,
        **extra,
    }


async def seed(pool: asyncpg.Pool, *entries: dict[str, Any]) -> None:
    await stores.import_stores(pool, validate_entries(list(entries)))


async def store_count(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM stores")
    return count


async def problem(resp, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    return body


# --------------------------------------------------------------------------- admin writes
async def test_put_creates_then_replaces(client, make_key: KeyFactory) -> None:
    admin = bearer(await make_key("admin"))
    body = {
        "name": "Omni Paris",
        "city": "Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "opening_hours": {"tue": [["14:00", "19:00"], ["09:30", "12:00"]], "sun": []},
        "services": ["reservation"],
        "pickup_capacity_per_day": 30,
    }
    resp = await client.put("/v1/admin/stores/PAR", json=body, headers=admin)
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["opening_hours"]["tue"] == [["09:30", "12:00"], ["14:00", "19:00"]]
    assert created["opening_hours"]["mon"] == []
    assert created["services"] == ["reservation"]
    assert (created["pickup_capacity_per_day"], created["timezone"]) == (30, "Europe/Paris")

    replaced = {"name": "Omni Paris Rivoli", "opening_hours": {"mon": [["10:00", "24:00"]]}}
    resp = await client.put("/v1/admin/stores/PAR", json=replaced, headers=admin)
    assert resp.status == 200
    got = await (await client.get("/v1/stores/PAR", headers=admin)).json()
    assert got["name"] == "Omni Paris Rivoli"
    assert got["opening_hours"]["mon"] == [["10:00", "24:00"]]
    assert got["pickup_capacity_per_day"] is None  # replaced, not merged
    assert got["latitude"] is None and got["services"] == ["click_and_collect", "reservation"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"latitude": 91, "longitude": 2}, ["latitude"]),
        ({"latitude": 48, "longitude": -181}, ["longitude"]),
        ({"latitude": 48}, []),
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"opening_hours": {"mon": [["9:30", "19:00"]]}}, ["opening_hours", "mon", 0, 0]),
        ({"opening_hours": {"mon": [["19:00", "09:30"]]}}, ["opening_hours", "mon", 0]),
        ({"opening_hours": {"mon": [["09:00", "13:00"], ["12:00", "19:00"]]}}, ["opening_hours"]),
        ({"opening_hours": {"monday": []}}, ["opening_hours", "monday", "[key]"]),
        ({"services": ["click_and_collect", "delivery"]}, ["services", 1]),
        ({"hold_hours": 0}, ["hold_hours"]),
        ({"colour": "blue"}, ["colour"]),
    ],
)
async def test_put_rejects_invalid_fields_and_writes_nothing(
    client, make_key: KeyFactory, pool, change: dict[str, Any], loc: list[Any]
) -> None:
    body = {"name": "Omni Paris", **change}
    resp = await client.put(
        "/v1/admin/stores/PAR", json=body, headers=bearer(await make_key("admin"))
    )
    problem_body = await problem(resp, 422)
    assert problem_body["type"] == VALIDATION
    assert [e["loc"] for e in problem_body["errors"]] == [loc]
    assert await store_count(pool) == 0


async def test_put_store_code_must_be_valid_and_agree_with_the_body(
    client, make_key: KeyFactory
) -> None:
    admin = bearer(await make_key("admin"))
    resp = await client.put(
        "/v1/admin/stores/PAR", json={"store_id": "LYO", "name": "x"}, headers=admin
    )
    body = await problem(resp, 422)
    assert body["errors"][0]["loc"] == ["store_id"] and "LYO" in body["detail"]
    resp = await client.put("/v1/admin/stores/bad%20code", json={"name": "x"}, headers=admin)
    assert (await problem(resp, 422))["errors"][0]["loc"] == ["store_id"]


async def test_admin_writes_need_an_admin_key(client, make_key: KeyFactory) -> None:
    body = city_store("PAR")
    assert (await client.put("/v1/admin/stores/PAR", json=body)).status == 401
    for role, scope in (("storefront", ()), ("staff", ("PAR",))):
        key = bearer(await make_key(role, scope))
        resp = await client.put("/v1/admin/stores/PAR", json=body, headers=key)
        assert (await problem(resp, 403))["type"].endswith("forbidden")
        resp = await client.post("/v1/admin/stores/import", json=[body], headers=key)
        assert resp.status == 403


async def test_import_creates_and_updates(client, make_key: KeyFactory, pool) -> None:
    admin = bearer(await make_key("admin"))
    await seed(pool, city_store("PAR"))
    entries = [city_store("PAR", name="Omni Paris 1er"), city_store("LYO"), city_store("VER")]
    resp = await client.post("/v1/admin/stores/import", json=entries, headers=admin)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"created": ["LYO", "VER"], "updated": ["PAR"]}
    assert await pool.fetchval("SELECT name FROM stores WHERE store_id = 'PAR'") == "Omni Paris 1er"


async def test_import_with_one_bad_entry_writes_nothing(client, make_key: KeyFactory, pool) -> None:
    admin = bearer(await make_key("admin"))
    await seed(pool, city_store("PAR"))
    entries = [
        city_store("PAR", name="Renamed"),
        city_store("LYO"),
        city_store("VER", timezone="Europe/Versailles"),
        city_store("LIL", services=["drive"]),
    ]
    resp = await client.post("/v1/admin/stores/import", json=entries, headers=admin)
    body = await problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == [[2, "timezone"], [3, "services", 0]]
    assert await store_count(pool) == 1
    assert await pool.fetchval("SELECT name FROM stores WHERE store_id = 'PAR'") == "Omni Paris"


async def test_import_naming_a_store_twice_is_422(client, make_key: KeyFactory, pool) -> None:
    entries = [city_store("PAR"), city_store("LYO"), city_store("PAR", name="again")]
    resp = await client.post(
        "/v1/admin/stores/import", json=entries, headers=bearer(await make_key("admin"))
    )
    body = await problem(resp, 422)
    assert body["errors"][0]["loc"] == [2, "store_id"]
    assert await store_count(pool) == 0


# --------------------------------------------------------------------------- reads
async def test_every_role_reads_the_directory(client, make_key: KeyFactory, pool) -> None:
    await seed(pool, city_store("PAR"), city_store("LYO"))
    assert (await client.get("/v1/stores/PAR")).status == 401
    for role, scope in (("storefront", ()), ("staff", ("LYO",)), ("admin", ())):
        key = bearer(await make_key(role, scope))
        resp = await client.get("/v1/stores/PAR", headers=key)
        assert resp.status == 200, role
        body = await resp.json()
        assert (body["store_id"], body["city"], body["postcode"]) == ("PAR", "Paris", "75001")
        assert body["distance_km"] is None
        assert (await client.get("/v1/stores", headers=key)).status == 200


async def test_unknown_store_is_404_naming_it(client, make_key: KeyFactory) -> None:
    resp = await client.get("/v1/stores/NOWHERE", headers=bearer(await make_key("storefront")))
    body = await problem(resp, 404)
    assert "NOWHERE" in body["detail"] and body["store_id"] == "NOWHERE"


async def test_near_paris_within_50_km(client, make_key: KeyFactory, pool) -> None:
    await seed(pool, *(city_store(code) for code in CITIES))
    resp = await client.get(
        f"/v1/stores?near={PARIS}&radius_km=50", headers=bearer(await make_key("storefront"))
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert [s["store_id"] for s in body["items"]] == ["PAR", "VER"]
    assert body["items"][0]["distance_km"] < 0.01
    expected = great_circle_km(CITIES["PAR"][2:], CITIES["VER"][2:])
    assert abs(body["items"][1]["distance_km"] - expected) < 0.05
    assert 17 < expected < 19  # the data README's "about 18 km"
    assert body["next_cursor"] is None


async def test_near_without_radius_orders_every_store_by_distance(
    client, make_key: KeyFactory, pool
) -> None:
    await seed(pool, *(city_store(code) for code in CITIES), {"store_id": "WEB", "name": "Web"})
    key = bearer(await make_key("staff", ["PAR"]))
    body = await (await client.get(f"/v1/stores?near={PARIS}", headers=key)).json()
    truth = sorted(CITIES, key=lambda c: great_circle_km(CITIES["PAR"][2:], CITIES[c][2:]))
    assert truth == ["PAR", "VER", "REI", "LIL", "LYO"]
    assert [s["store_id"] for s in body["items"]] == truth  # WEB has no coordinates
    lyon = body["items"][-1]["distance_km"]
    assert abs(lyon - great_circle_km(CITIES["PAR"][2:], CITIES["LYO"][2:])) < 0.05
    body = await (await client.get(f"/v1/stores?near={PARIS}&limit=3", headers=key)).json()
    assert [s["store_id"] for s in body["items"]] == truth[:3]


async def test_near_honours_service_and_active(client, make_key: KeyFactory, pool) -> None:
    await seed(
        pool,
        city_store("PAR", services=["reservation"]),
        city_store("VER", active=False),
        city_store("REI"),
    )
    key = bearer(await make_key("storefront"))
    url = f"/v1/stores?near={PARIS}&service=click_and_collect"
    assert [
        s["store_id"] for s in (await (await client.get(url, headers=key)).json())["items"]
    ] == ["REI"]
    url = f"/v1/stores?near={PARIS}&include_inactive=true"
    ids = [s["store_id"] for s in (await (await client.get(url, headers=key)).json())["items"]]
    assert ids == ["PAR", "VER", "REI"]
    inactive = await (await client.get("/v1/stores/VER", headers=key)).json()
    assert inactive["active"] is False


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("near=paris", ["near"]),
        ("near=91,2.35", ["near"]),
        ("near=48.85", ["near"]),
        (f"near={PARIS}&radius_km=-5", ["radius_km"]),
        (f"near={PARIS}&radius_km=far", ["radius_km"]),
        (f"near={PARIS}&radius_km=nan", ["radius_km"]),
        ("radius_km=10", ["radius_km"]),
        (f"near={PARIS}&cursor=s1.UEFS", ["cursor"]),
        ("cursor=garbage", ["cursor"]),
        ("limit=0", ["limit"]),
        ("service=delivery", ["service"]),
    ],
)
async def test_malformed_search_is_422(
    client, make_key: KeyFactory, query: str, loc: list[str]
) -> None:
    resp = await client.get(f"/v1/stores?{query}", headers=bearer(await make_key("storefront")))
    body = await problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == [loc]


async def test_cursor_pagination_walks_every_store_once(client, make_key: KeyFactory, pool) -> None:
    await seed(pool, *(city_store(code) for code in CITIES), city_store("PAR", store_id="A01"))
    key = bearer(await make_key("storefront"))
    seen: list[str] = []
    url = "/v1/stores?limit=2"
    pages = 0
    while url:
        body = await (await client.get(url, headers=key)).json()
        seen += [s["store_id"] for s in body["items"]]
        pages += 1
        url = f"/v1/stores?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert seen == ["A01", "LIL", "LYO", "PAR", "REI", "VER"]
    assert pages == 3


async def test_open_now_follows_the_hours(client, make_key: KeyFactory, pool) -> None:
    always = {
        day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    await seed(
        pool,
        city_store("PAR", opening_hours=always),
        city_store("LYO", opening_hours={}),
    )
    key = bearer(await make_key("storefront"))
    body = await (await client.get("/v1/stores", headers=key)).json()
    assert {s["store_id"]: s["open_now"] for s in body["items"]} == {"PAR": True, "LYO": False}


async def test_open_now_uses_the_store_time_zone(pool) -> None:
    await seed(
        pool,
        city_store("PAR"),
        {
            "store_id": "NYC",
            "name": "Omni NYC",
            "timezone": "America/New_York",
            "opening_hours": WEEKDAYS_9_19,
        },
    )
    monday_10_paris = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)  # 04:00 in New York
    page = await stores.find_stores(pool, now=monday_10_paris)
    assert {v.record.store_id: v.open_now for v in page.items} == {"NYC": False, "PAR": True}
    monday_10_ny = datetime(2024, 6, 3, 14, 0, tzinfo=UTC)  # 16:00 in Paris
    assert (await stores.get_store(pool, "NYC", now=monday_10_ny)).open_now
    sunday = datetime(2024, 6, 2, 14, 0, tzinfo=UTC)
    assert not (await stores.get_store(pool, "PAR", now=sunday)).open_now


async def test_hours_written_by_the_demo_upsert_are_stored_as_an_object(pool) -> None:
    from stores import store_directory as directory_repo

    async with pool.acquire() as conn:
        await directory_repo.upsert(
            conn, {"store_id": "S001", "opening_hours": {"mon": [["10:00", "19:00"]]}}
        )
        kind = await conn.fetchval("SELECT jsonb_typeof(opening_hours) FROM stores")
    assert kind == "object"
    view = await stores.get_store(pool, "S001", now=datetime(2024, 6, 3, 10, 0, tzinfo=UTC))
    assert view.open_now


async def test_migration_0003_repairs_double_encoded_hours(
    empty_database_url: str, tmp_path: Path
) -> None:
    from stores.migrate import default_migrations_dir, migrate

    for sql in sorted(default_migrations_dir().glob("000[12]_*.sql")):
        shutil.copy(sql, tmp_path / sql.name)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn, tmp_path)
        hours = json.dumps(json.dumps({"mon": [["09:00", "19:00"]]}))  # a JSON string of JSON
        await conn.execute(
            "INSERT INTO stores (store_id, opening_hours) VALUES ('S001', $1::jsonb)", hours
        )
        applied = await migrate(conn)
        assert applied[0].version == "0003"
        repaired = await conn.fetchval("SELECT opening_hours::text FROM stores")
        assert json.loads(repaired) == {"mon": [["09:00", "19:00"]]}
    finally:
        await conn.close()
