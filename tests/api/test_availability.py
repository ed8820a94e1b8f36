"""Availability over HTTP: identifiers, stores and distance, ATP with holds and buffers, the
matrix and whole-basket answers, and every error."""

from __future__ import annotations

import pytest

from service.api.appkeys import READER
from service.api.availability import AvailabilityOut, MatrixOut
from tests.api.stock_fixtures import ITEMS, add_hold, ago, now, seed, set_stock
from tests.conftest import KeyFactory, bearer

PARIS = "48.8566,2.3522"


async def _invalidate(client, sku: str) -> None:
    """What a hold does through NOTIFY; the tests below insert holds with plain SQL."""
    await client.app[READER].invalidate([sku])


@pytest.fixture
async def key(pool, make_key: KeyFactory) -> str:
    await seed(pool)
    return await make_key("storefront")


async def _get(client, key: str, query: str, status: int = 200) -> dict:
    resp = await client.get(f"/v1/availability?{query}", headers=bearer(key))
    assert resp.status == status, await resp.text()
    body = await resp.json()
    if status == 200:
        AvailabilityOut.model_validate(body)  # the answer has the documented shape
    return body


@pytest.mark.parametrize(
    ("query", "resolved_by"),
    [
        ("sku=JEANS-32", "sku"),
        ("ean=2000000000039", "ean"),
        ("ps_product=103&ps_attribute=3", "ps_key"),
        ("reference=JEANS", "reference"),
    ],
)
async def test_every_identifier_resolves_and_is_echoed(client, key, query, resolved_by) -> None:
    body = await _get(client, key, f"{query}&store=PAR")
    assert body["item"]["sku"] == "JEANS-32"
    assert body["item"]["resolved_by"] == resolved_by
    assert body["item"]["ean"] == ITEMS["JEANS-32"]
    [cell] = body["stores"]
    assert cell["store_id"] == "PAR" and cell["name"] == "Omnistock Paris"
    assert cell["available"] == 10  # 10 on hand, no hold, global safety stock 0
    assert cell["status"] == "in_stock" and cell["stale"] is False
    assert cell["source"] == "snapshot" and cell["as_of"]


async def test_named_stores_keep_the_callers_order(client, key) -> None:
    body = await _get(client, key, "sku=JEANS-32&store=LYO&store=PAR&store=LYO")
    assert [c["store_id"] for c in body["stores"]] == ["LYO", "PAR"]
    assert all(c["distance_km"] is None for c in body["stores"])


async def test_near_sorts_by_distance_and_applies_the_radius(client, key) -> None:
    body = await _get(client, key, f"sku=JEANS-32&near={PARIS}&radius_km=50")
    assert [c["store_id"] for c in body["stores"]] == ["PAR", "VER"]
    assert body["stores"][0]["distance_km"] == 0
    assert 17 < body["stores"][1]["distance_km"] < 19  # Paris-Versailles about 18 km
    body = await _get(client, key, f"sku=JEANS-32&near={PARIS}&radius_km=1000")
    assert [c["store_id"] for c in body["stores"]] == ["PAR", "VER", "LYO", "MAR"]
    assert 385 < body["stores"][2]["distance_km"] < 398  # Paris-Lyon about 391 km
    body = await _get(client, key, f"sku=JEANS-32&near={PARIS}&radius_km=1000&limit=1")
    assert [c["store_id"] for c in body["stores"]] == ["PAR"]


async def test_holds_and_buffers_shape_the_answer(client, key, pool) -> None:
    await add_hold(pool, "PAR", "JEANS-32", 3)  # not booked by the ERP yet: counts
    await pool.execute(
        "INSERT INTO stock_buffers (store_id, sku, safety_stock, low_stock) "
        "VALUES ('PAR', NULL, 2, 6)"
    )
    client.app[READER].forget_reference()  # buffers are reference data, cached 30 s
    await _invalidate(client, "JEANS-32")
    body = await _get(client, key, "sku=JEANS-32&store=PAR&store=LYO")
    par, lyo = body["stores"]
    assert par["available"] == 10 - 3 - 2 and par["status"] == "low_stock"
    assert lyo["available"] == 10 and lyo["status"] == "in_stock"


async def test_erp_below_our_holds_floors_at_zero_and_flags(client, key, pool) -> None:
    await add_hold(pool, "LYO", "JEANS-32", 4)
    await set_stock(pool, "LYO", "JEANS-32", 1)  # the store sold units meanwhile
    body = await _get(client, key, "sku=JEANS-32&store=LYO")
    [cell] = body["stores"]
    assert cell["available"] == 0 and cell["status"] == "out_of_stock"
    assert cell["oversold"] is True and cell["offered_for_pickup"] is False
    assert cell["enough"] is False


async def test_a_booked_hold_stops_counting_only_after_a_later_snapshot(client, key, pool) -> None:
    acked = now()
    await add_hold(pool, "MAR", "JEANS-32", 4, acked_at=acked)
    await set_stock(pool, "MAR", "JEANS-32", 10, as_of=acked)  # snapshot not after the ack
    body = await _get(client, key, "sku=JEANS-32&store=MAR")
    assert body["stores"][0]["available"] == 6  # still subtracted: never dropped early
    await set_stock(pool, "MAR", "JEANS-32", 6, as_of=now())  # the ERP now shows the booking
    await _invalidate(client, "JEANS-32")
    body = await _get(client, key, "sku=JEANS-32&store=MAR")
    assert body["stores"][0]["available"] == 6  # not subtracted twice


async def test_old_snapshot_is_flagged_stale(client, make_key, pool) -> None:
    await seed(pool, as_of=ago(3600))
    key = await make_key("storefront")
    body = await _get(client, key, "sku=JEANS-32&store=PAR")
    assert body["stores"][0]["stale"] is True
    assert body["stores"][0]["source"] == "fallback"  # too old, and no ERP in this app


async def test_matrix_and_whole_basket(client, key, pool) -> None:
    await set_stock(pool, "VER", "TSHIRT-RED-M", 0)
    body = {
        "lines": [
            {"sku": "TSHIRT-RED-M", "quantity": 2},
            {"ean": ITEMS["JEANS-32"], "quantity": 5},
        ],
        "near": {"lat": 48.8566, "lng": 2.3522, "radius_km": 500},
        "whole_basket": True,
    }
    await add_hold(pool, "PAR", "JEANS-32", 6)  # Paris keeps 4 jeans: not enough for 5
    await _invalidate(client, "JEANS-32")
    resp = await client.post("/v1/availability", json=body, headers=bearer(key))
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    MatrixOut.model_validate(data)  # the answer has the documented shape
    assert [s["store_id"] for s in data["stores"]] == ["PAR", "VER", "LYO"]
    assert [line["item"]["sku"] for line in data["lines"]] == ["TSHIRT-RED-M", "JEANS-32"]
    jeans = {c["store_id"]: c for c in data["lines"][1]["stores"]}
    assert jeans["PAR"]["available"] == 4 and jeans["PAR"]["enough"] is False
    assert [s["store_id"] for s in data["whole_basket"]] == ["LYO"]  # VER has no T-shirt


async def test_matrix_with_named_stores(client, key) -> None:
    body = {"lines": [{"sku": s} for s in ITEMS], "stores": ["MAR", "PAR"]}
    resp = await client.post("/v1/availability", json=body, headers=bearer(key))
    data = await resp.json()
    assert [s["store_id"] for s in data["stores"]] == ["MAR", "PAR"]
    assert data["whole_basket"] is None
    assert all(len(line["stores"]) == 2 for line in data["lines"])


@pytest.mark.parametrize(
    ("query", "status", "slug", "needle"),
    [
        ("sku=NOPE&store=PAR", 404, "not-found", "NOPE"),
        ("sku=JEANS-32&store=XXX&store=YYY", 404, "not-found", "XXX, YYY"),
        ("ean=2000000000038&store=PAR", 422, "validation-error", "ean"),
        ("reference=TSHIRT&store=PAR", 409, "conflict", "TSHIRT"),
        ("sku=JEANS-32", 422, "validation-error", "store"),
        ("sku=JEANS-32&near=91,2", 422, "validation-error", "near"),
        ("sku=JEANS-32&near=paris", 422, "validation-error", "near"),
        (f"sku=JEANS-32&near={PARIS}&radius_km=-1", 422, "validation-error", "radius_km"),
        ("sku=JEANS-32&store=PAR&quantity=0", 422, "validation-error", "quantity"),
        ("store=PAR", 422, "validation-error", ""),
        ("sku=JEANS-32&ean=2000000000039&store=PAR", 422, "validation-error", ""),
    ],
)
async def test_bad_input_is_a_clear_problem(client, key, query, status, slug, needle) -> None:
    resp = await client.get(f"/v1/availability?{query}", headers=bearer(key))
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    text = await resp.text()
    assert f"urn:omnistock:problem:{slug}" in text and needle in text


async def test_ambiguous_reference_lists_candidates(client, key) -> None:
    body = await _get(client, key, "reference=TSHIRT&store=PAR", status=409)
    skus = sorted(c["sku"] for c in body["candidates"])
    assert skus == ["TSHIRT-RED-L", "TSHIRT-RED-M"]


async def test_matrix_limits_and_shape_errors(make_client, key) -> None:
    client = await make_client(matrix_max_cells=4)
    lines = [{"sku": s} for s in ITEMS]
    resp = await client.post(
        "/v1/availability", headers=bearer(key), json={"lines": lines, "stores": ["PAR", "LYO"]}
    )
    assert resp.status == 413
    assert (await resp.json())["cells"] == 6
    for bad, loc in (
        ({"lines": [], "stores": ["PAR"]}, "lines"),
        ({"lines": lines, "stores": ["PAR"], "near": {"lat": 1, "lng": 1}}, ""),
        ({"lines": lines}, ""),
        ({"lines": [{"sku": "JEANS-32", "quantity": -1}], "stores": ["PAR"]}, "quantity"),
        ({"lines": lines * 100, "stores": ["PAR"]}, "lines"),
    ):
        resp = await client.post("/v1/availability", json=bad, headers=bearer(key))
        assert resp.status == 422, bad
        assert loc in await resp.text()


async def test_staff_and_admin_may_read_too(client, key, make_key) -> None:
    for role, stores in (("staff", ["PAR"]), ("admin", [])):
        k = await make_key(role, stores)
        await _get(client, k, "sku=JEANS-32&store=LYO")
    resp = await client.get("/v1/availability?sku=JEANS-32&store=PAR")
    assert resp.status == 401
