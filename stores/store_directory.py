"""Repository of the store directory. Explicit connection, never commits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = """store_id, name, address, city, postcode, country, latitude, longitude, timezone,
    opening_hours, services, pickup_capacity_per_day, hold_hours, warehouse_id, active,
    updated_at"""
# $10 is sent as text: the pool's jsonb codec would otherwise encode the JSON a second time.
_UPSERT = """
INSERT INTO stores (store_id, name, address, city, postcode, country, latitude, longitude,
                    timezone, opening_hours, services, pickup_capacity_per_day, hold_hours,
                    warehouse_id, active, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12, $13, $14, $15, now())
ON CONFLICT (store_id) DO UPDATE SET
    name = EXCLUDED.name, address = EXCLUDED.address, city = EXCLUDED.city,
    postcode = EXCLUDED.postcode, country = EXCLUDED.country, latitude = EXCLUDED.latitude,
    longitude = EXCLUDED.longitude, timezone = EXCLUDED.timezone,
    opening_hours = EXCLUDED.opening_hours, services = EXCLUDED.services,
    pickup_capacity_per_day = EXCLUDED.pickup_capacity_per_day,
    hold_hours = EXCLUDED.hold_hours, warehouse_id = EXCLUDED.warehouse_id,
    active = EXCLUDED.active, updated_at = now()
"""
_SAVE = _UPSERT + "RETURNING (xmax = 0) AS created"
_FILL_NAMES = """
UPDATE stores s SET name = n.name, updated_at = now()
FROM unnest($1::text[], $2::text[]) AS n(store_id, name)
WHERE s.store_id = n.store_id AND s.name = '' AND n.name <> ''
"""
_GET_MANY = f"SELECT {_COLUMNS} FROM stores WHERE store_id = ANY($1::text[]) ORDER BY store_id"
_FILTER = "(active OR $1) AND ($2::text IS NULL OR $2 = ANY(services))"
_PAGE = f"""
SELECT {_COLUMNS} FROM stores
WHERE {_FILTER} AND ($3::text IS NULL OR store_id > $3)
ORDER BY store_id LIMIT $4
"""
_LOCATED = f"""
SELECT {_COLUMNS} FROM stores
WHERE {_FILTER} AND latitude IS NOT NULL AND longitude IS NOT NULL
ORDER BY store_id
"""


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """A row of the store directory; ``opening_hours`` is the stored JSON, as stored."""

    store_id: str
    name: str
    address: str
    city: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    timezone: str
    opening_hours: Any
    services: tuple[str, ...]
    pickup_capacity_per_day: int | None
    hold_hours: int
    warehouse_id: str
    active: bool
    updated_at: datetime

    def fields(self) -> dict[str, Any]:
        """The writable fields, in the shape ``upsert`` and ``save`` take."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "updated_at"}
        data["services"] = list(self.services)
        return data


def _record(row: asyncpg.Record) -> StoreRecord:
    hours = row["opening_hours"]
    return StoreRecord(
        **{k: v for k, v in row.items() if k not in ("opening_hours", "services")},
        opening_hours=json.loads(hours) if isinstance(hours, str) else hours,
        services=tuple(row["services"]),
    )


def _args(store: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        store["store_id"],
        store.get("name", ""),
        store.get("address", ""),
        store.get("city", ""),
        store.get("postcode", ""),
        store.get("country", "FR"),
        store.get("latitude"),
        store.get("longitude"),
        store.get("timezone", "Europe/Paris"),
        json.dumps(store.get("opening_hours", {})),
        list(store.get("services", ["click_and_collect", "reservation"])),
        store.get("pickup_capacity_per_day"),
        store.get("hold_hours", 48),
        store.get("warehouse_id", ""),
        store.get("active", True),
    )


async def upsert(conn: asyncpg.Connection, store: Mapping[str, Any]) -> None:
    await conn.execute(_UPSERT, *_args(store))


async def save(conn: asyncpg.Connection, store: Mapping[str, Any]) -> bool:
    """Create or replace a store; True when it was created."""
    created: bool = await conn.fetchval(_SAVE, *_args(store))
    return created


async def get_many(conn: asyncpg.Connection, ids: Sequence[str]) -> list[StoreRecord]:
    return [_record(r) for r in await conn.fetch(_GET_MANY, list(ids))]


async def get(conn: asyncpg.Connection, store_id: str) -> StoreRecord | None:
    found = await get_many(conn, [store_id])
    return found[0] if found else None


async def page(
    conn: asyncpg.Connection,
    *,
    after: str | None,
    limit: int,
    service: str | None = None,
    include_inactive: bool = False,
) -> list[StoreRecord]:
    """Stores in store_id order after ``after`` (exclusive), at most ``limit``."""
    rows = await conn.fetch(_PAGE, include_inactive, service, after, limit)
    return [_record(r) for r in rows]


async def located(
    conn: asyncpg.Connection, *, service: str | None = None, include_inactive: bool = False
) -> list[StoreRecord]:
    """Stores that have coordinates (candidates for "near" searches)."""
    return [_record(r) for r in await conn.fetch(_LOCATED, include_inactive, service)]


async def fill_missing_names(conn: asyncpg.Connection, names: Mapping[str, str]) -> None:
    """Give stores that have no name the name the ERP reports (StoreName)."""
    if names:
        ids: Sequence[str] = list(names)
        await conn.execute(_FILL_NAMES, ids, [names[i] for i in ids])


async def store_ids(conn: asyncpg.Connection, *, active_only: bool = True) -> list[str]:
    rows = await conn.fetch(
        "SELECT store_id FROM stores WHERE active OR NOT $1 ORDER BY store_id", active_only
    )
    return [r["store_id"] for r in rows]
