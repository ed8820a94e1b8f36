"""One shape for "near the shopper", wherever the API takes one.

The shape: ``near`` is ``"LAT,LNG"`` with ``radius_km`` and ``limit`` beside it, in a query
(``GET /v1/stores``, ``GET /v1/availability``) as in a body (``POST /v1/availability``).
The object form ``{"lat", "lng", "radius_km", "limit"}`` is accepted too: as a JSON object in a
body, as ``near[lat]=..&near[lng]=..`` (OpenAPI's deepObject style) in a query. ``fold_near``
turns it into the first form before validation, so both forms meet the same checks and errors;
a member given twice (``radius_km`` inside ``near`` and beside it) is a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

MEMBERS = ("lat", "lng", "radius_km", "limit")
DESCRIPTION = (
    "'LAT,LNG' (decimal degrees, WGS 84): the stores nearest to this point, with distance_km. "
    "Also accepted: the object form {lat, lng, radius_km, limit} (in a query string: "
    "near[lat]=..&near[lng]=..)."
)


def near_field(**kw: Any) -> Any:
    return Field(default=None, description=DESCRIPTION, examples=["48.8566,2.3522"], **kw)


def _object_of(data: Mapping[str, Any], *, query: bool) -> dict[str, Any] | None:
    """The members of an object-form ``near`` in a request, or None."""
    if not query:
        near = data.get("near")
        return dict(near) if isinstance(near, Mapping) else None
    inner = {k[5:-1]: v for k, v in data.items() if k.startswith("near[") and k.endswith("]")}
    if inner and "near" in data:
        raise ValueError("give near once: near=LAT,LNG or near[lat]=..&near[lng]=..")
    return inner or None


def fold_near(data: Any, *, query: bool) -> Any:
    """A request's data with an object-form ``near`` written in the one shape."""
    if not isinstance(data, Mapping):
        return data
    inner = _object_of(data, query=query)
    if inner is None:
        return data
    rest = {k: v for k, v in data.items() if k != "near" and not k.startswith("near[")}
    unknown = sorted(set(inner) - set(MEMBERS))
    if unknown:
        raise ValueError(f"near has no member {unknown[0]!r}; its members: {', '.join(MEMBERS)}")
    missing = [m for m in ("lat", "lng") if m not in inner]
    if missing:
        raise ValueError(f"near needs {' and '.join(missing)}")
    for member in ("lat", "lng"):
        value = inner[member]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"near.{member} must be a number, got {value!r}")
    folded = {**rest, "near": f"{inner['lat']},{inner['lng']}"}
    for member in ("radius_km", "limit"):
        if member in inner:
            if member in rest:
                raise ValueError(f"give {member} once: inside near or beside it, not both")
            folded[member] = inner[member]
    return folded


def body_schema(*, max_radius_km: float, max_limit: int) -> dict[str, Any]:
    """The body's ``near`` as the OpenAPI document shows it: either form."""
    return {
        "anyOf": [
            {"type": "string", "description": "LAT,LNG", "examples": ["48.8566,2.3522"]},
            {
                "type": "object",
                "description": "The object form (radius_km and limit inside it, not beside it).",
                "properties": {
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lng": {"type": "number", "minimum": -180, "maximum": 180},
                    "radius_km": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": max_radius_km,
                    },
                    "limit": {"type": "integer", "minimum": 1, "maximum": max_limit},
                },
                "required": ["lat", "lng"],
                "additionalProperties": False,
            },
            {"type": "null"},
        ],
        "default": None,
        "description": DESCRIPTION,
    }
