"""Great-circle distances between stores and a shopper, and "nearest stores within a radius".

Distances use the haversine formula on a sphere of the mean Earth radius (IUGG, 6371.0088 km);
the error against the WGS84 ellipsoid stays under 0.5 %, far below what store ranking needs.
Stores without coordinates are never "near" anything: ``nearest_stores`` leaves them out, while
``sort_by_distance`` (ordering a list of stores already chosen, e.g. those that can fulfil a basket)
puts them last.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class LatLng:
    """A WGS84 position in decimal degrees; raises ``ValueError`` when out of range."""

    lat: float
    lng: float

    def __post_init__(self) -> None:
        for name, value, limit in (("latitude", self.lat, 90.0), ("longitude", self.lng, 180.0)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or not -limit <= value <= limit:
                raise ValueError(f"{name} must be between -{limit:g} and {limit:g}, got {value}")

    def __str__(self) -> str:
        return f"{self.lat},{self.lng}"


@dataclass(frozen=True, slots=True)
class StoreDistance:
    store_id: str
    distance_km: float


def haversine_km(a: LatLng, b: LatLng) -> float:
    """Great-circle distance between two positions, in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlng = math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def parse_latlng(text: str) -> LatLng:
    """Parse ``"lat,lng"`` (e.g. ``"48.85,2.35"``); raise ``ValueError`` on anything else."""
    if not isinstance(text, str):
        raise ValueError(f"expected 'lat,lng', got {text!r}")
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected 'lat,lng', got {text!r}")
    try:
        lat, lng = (float(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"expected two decimal numbers 'lat,lng', got {text!r}") from None
    return LatLng(lat, lng)


def _check_radius(radius_km: float | None) -> None:
    if radius_km is None:
        return
    if not math.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius must be a non-negative number of km, got {radius_km}")


def nearest_stores(
    origin: LatLng,
    stores: Mapping[str, LatLng | None],
    *,
    radius_km: float | None = None,
    limit: int | None = None,
) -> list[StoreDistance]:
    """Stores within ``radius_km`` of ``origin`` (all when None), nearest first.

    Ties on distance are broken by store id so the order is stable. ``limit`` keeps the first N.
    """
    _check_radius(radius_km)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    found = [
        StoreDistance(store_id, haversine_km(origin, position))
        for store_id, position in stores.items()
        if position is not None
    ]
    if radius_km is not None:
        found = [d for d in found if d.distance_km <= radius_km]
    found.sort(key=lambda d: (d.distance_km, d.store_id))
    return found if limit is None else found[:limit]


def sort_by_distance(
    origin: LatLng, store_ids: Iterable[str], positions: Mapping[str, LatLng | None]
) -> list[str]:
    """``store_ids`` nearest first; stores without a known position follow, by id."""
    ids = set(store_ids)
    located = nearest_stores(origin, {s: positions.get(s) for s in ids})
    placed = {d.store_id for d in located}
    return [d.store_id for d in located] + sorted(ids - placed)
