from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.geo import (
    EARTH_RADIUS_KM,
    LatLng,
    StoreDistance,
    haversine_km,
    nearest_stores,
    parse_latlng,
    sort_by_distance,
)

# A copy of /work/shared/data/fr_cities.csv (city centres, WGS84, 4 decimals).
CITIES_CSV = Path(__file__).parent / "data" / "fr_cities.csv"


def _load_cities() -> dict[str, LatLng]:
    with CITIES_CSV.open(newline="") as f:
        rows = csv.DictReader(f)
        return {r["city"]: LatLng(float(r["latitude"]), float(r["longitude"])) for r in rows}


CITIES = _load_cities()


def _law_of_cosines_km(a: LatLng, b: LatLng) -> float:
    """An independent great-circle formula to check haversine against."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lng - a.lng)
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, cos_angle)))


def test_paris_lyon_is_about_391_km() -> None:
    assert haversine_km(CITIES["Paris"], CITIES["Lyon"]) == pytest.approx(391.5, abs=0.5)


def test_paris_versailles_is_about_18_km() -> None:
    assert haversine_km(CITIES["Paris"], CITIES["Versailles"]) == pytest.approx(17.9, abs=0.2)


def test_haversine_agrees_with_the_law_of_cosines_for_every_pair_of_cities() -> None:
    names = sorted(CITIES)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            expected = _law_of_cosines_km(CITIES[a], CITIES[b])
            assert haversine_km(CITIES[a], CITIES[b]) == pytest.approx(expected, rel=1e-6), (a, b)


def test_antipodes_are_half_a_circumference_apart() -> None:
    assert haversine_km(LatLng(0, 0), LatLng(0, 180)) == pytest.approx(math.pi * EARTH_RADIUS_KM)


positions = st.builds(
    LatLng, st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)
)


@given(positions, positions)
def test_distance_is_symmetric_and_bounded(a: LatLng, b: LatLng) -> None:
    d = haversine_km(a, b)
    assert 0 <= d <= math.pi * EARTH_RADIUS_KM + 1e-6
    assert d == pytest.approx(haversine_km(b, a), abs=1e-9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48.85,2.35", LatLng(48.85, 2.35)),
        (" -33.9 , 151.2 ", LatLng(-33.9, 151.2)),
        ("90,-180", LatLng(90, -180)),
    ],
)
def test_parse_latlng(text: str, expected: LatLng) -> None:
    assert parse_latlng(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "48.85",
        "48.85,2.35,1",
        "abc,2",
        "91,0",
        "0,181",
        "-90.1,0",
        "nan,2",
        "inf,0",
        "48.85;2.35",
    ],
)
def test_parse_latlng_refuses_bad_input(text: str) -> None:
    with pytest.raises(ValueError):
        parse_latlng(text)


def test_nearest_stores_within_radius_nearest_first() -> None:
    found = nearest_stores(CITIES["Paris"], CITIES, radius_km=30)
    assert [d.store_id for d in found] == [
        "Paris",
        "Boulogne-Billancourt",
        "Saint-Denis",
        "Versailles",
    ]
    assert all(d.distance_km <= 30 for d in found)
    assert found[3].distance_km == pytest.approx(17.9, abs=0.2)


def test_every_city_farther_than_the_radius_is_left_out() -> None:
    radius = 300.0
    found = {d.store_id for d in nearest_stores(CITIES["Paris"], CITIES, radius_km=radius)}
    for city, position in CITIES.items():
        assert (city in found) == (haversine_km(CITIES["Paris"], position) <= radius)


def test_ties_are_broken_by_store_id_and_unknown_positions_are_skipped() -> None:
    same = LatLng(45.0, 5.0)
    stores = {"S3": same, "S1": same, "S2": same, "S0": None}
    found = nearest_stores(LatLng(45.0, 5.1), stores)
    assert [d.store_id for d in found] == ["S1", "S2", "S3"]
    assert nearest_stores(LatLng(45.0, 5.1), stores, limit=1) == [
        StoreDistance("S1", found[0].distance_km)
    ]


def test_radius_must_be_sensible() -> None:
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            nearest_stores(CITIES["Paris"], CITIES, radius_km=bad)
    with pytest.raises(ValueError):
        nearest_stores(CITIES["Paris"], CITIES, limit=-1)


def test_sort_by_distance_puts_unlocated_stores_last() -> None:
    positions = {
        "LYON": CITIES["Lyon"],
        "LILLE": CITIES["Lille"],
        "VERS": CITIES["Versailles"],
        "X": None,
    }
    order = sort_by_distance(CITIES["Paris"], ["X", "LYON", "LILLE", "VERS", "GHOST"], positions)
    assert order == ["VERS", "LILLE", "LYON", "GHOST", "X"]


@pytest.mark.parametrize(("lat", "lng"), [(True, 0), ("48", 2), (0, float("nan"))])
def test_latlng_refuses_non_numbers(lat: object, lng: object) -> None:
    with pytest.raises(ValueError):
        LatLng(lat, lng)  # type: ignore[arg-type]
