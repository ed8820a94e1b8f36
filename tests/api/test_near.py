"""One shape for "near": 'LAT,LNG' with radius_km and limit beside it, in GET and POST alike;
the object form {lat, lng, radius_km, limit} accepted in both places with the same answer; a
member given twice, or an unknown one, is a clear 422."""

from __future__ import annotations

import pytest

from service.api.near import fold_near
from tests.api.stock_fixtures import seed
from tests.conftest import KeyFactory, bearer

PARIS = "48.8566,2.3522"


@pytest.fixture
async def key(pool, make_key: KeyFactory) -> str:
    await seed(pool)
    return await make_key("storefront")


def _stores(body: dict) -> list[tuple[str, float]]:
    return [(c["store_id"], c["distance_km"]) for c in body["stores"]]


async def _get(client, key: str, query: str) -> dict:
    resp = await client.get(f"/v1/availability?sku=JEANS-32&{query}", headers=bearer(key))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _post(client, key: str, body: dict, status: int = 200) -> dict:
    lines = [{"sku": "JEANS-32"}]
    resp = await client.post("/v1/availability", json={"lines": lines, **body}, headers=bearer(key))
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_both_forms_give_the_same_answer_in_get_and_post(client, key) -> None:
    get_string = await _get(client, key, f"near={PARIS}&radius_km=500&limit=2")
    get_object = await _get(
        client, key, "near[lat]=48.8566&near[lng]=2.3522&near[radius_km]=500&near[limit]=2"
    )
    post_string = await _post(client, key, {"near": PARIS, "radius_km": 500, "limit": 2})
    post_object = await _post(
        client, key, {"near": {"lat": 48.8566, "lng": 2.3522, "radius_km": 500, "limit": 2}}
    )
    expected = _stores(get_string)
    assert len(expected) == 2 and expected[0][0] == "PAR"
    assert _stores(get_object) == expected
    assert [(s["store_id"], s["distance_km"]) for s in post_string["stores"]] == expected
    assert [(s["store_id"], s["distance_km"]) for s in post_object["stores"]] == expected


async def test_the_radius_is_applied_in_either_form(client, key) -> None:
    small = await _get(client, key, "near[lat]=48.8566&near[lng]=2.3522&radius_km=50")
    assert {s for s, _ in _stores(small)} <= {"PAR", "VER"}
    wide = await _post(client, key, {"near": PARIS, "radius_km": 1000})
    assert len(wide["stores"]) > len(small["stores"])


async def test_the_store_list_takes_both_forms(client, key) -> None:
    answers = []
    for query in (f"near={PARIS}&limit=2", "near[lat]=48.8566&near[lng]=2.3522&near[limit]=2"):
        resp = await client.get(f"/v1/stores?{query}", headers=bearer(key))
        assert resp.status == 200, await resp.text()
        answers.append([(s["store_id"], s["distance_km"]) for s in (await resp.json())["items"]])
    assert answers[0] == answers[1] and len(answers[0]) == 2


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        (f"near={PARIS}&near[lat]=1&near[lng]=2", "give near once"),
        ("near[lat]=48.85&near[lng]=2.35&near[radius_km]=5&radius_km=9", "give radius_km once"),
        ("near[lat]=48.85", "near needs lng"),
        ("near[lat]=48.85&near[lng]=2.35&near[zoom]=3", "no member 'zoom'"),
        ("near[lat]=91&near[lng]=2.35", "near"),
        ("near[lat]=48.85&near[lng]=2.35&near[radius_km]=-1", "radius_km"),
    ],
)
async def test_get_errors_are_clear(client, key, query: str, needle: str) -> None:
    resp = await client.get(f"/v1/availability?sku=JEANS-32&{query}", headers=bearer(key))
    assert resp.status == 422, await resp.text()
    assert resp.content_type == "application/problem+json"
    assert needle in await resp.text()


@pytest.mark.parametrize(
    ("near", "extra", "needle"),
    [
        ({"lat": 48.85, "lng": 2.35, "limit": 2}, {"limit": 3}, "give limit once"),
        ({"lat": 48.85}, {}, "near needs lng"),
        ({"lat": True, "lng": 2.35}, {}, "must be a number"),
        ({"lat": 48.85, "lng": 2.35, "radius": 5}, {}, "no member 'radius'"),
        ("48.85", {}, "expected 'lat,lng'"),
        ({"lat": 48.85, "lng": 200}, {}, "near"),
        (PARIS, {"radius_km": 0}, "radius_km"),
    ],
)
async def test_post_errors_are_clear(client, key, near, extra: dict, needle: str) -> None:
    problem = await _post(client, key, {"near": near, **extra}, status=422)
    assert problem["type"] == "urn:omnistock:problem:validation-error"
    assert needle in str(problem)


def test_fold_leaves_the_one_shape_alone() -> None:
    data = {"near": PARIS, "radius_km": "5"}
    assert fold_near(data, query=True) is data and fold_near(data, query=False) is data
    assert fold_near({"near": {"lat": 1, "lng": 2}}, query=False) == {"near": "1,2"}
    assert fold_near([1, 2], query=False) == [1, 2]
