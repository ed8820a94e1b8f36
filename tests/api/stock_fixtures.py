"""A small, known world for availability tests: stores in real French cities, items, stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from service.erp.port import Item, StockLine
from stores import items as items_repo
from stores import stock as stock_repo
from stores import store_directory as directory_repo

# city centres from shared/data/fr_cities.csv
CITIES = {
    "PAR": ("Paris", 48.8566, 2.3522),
    "VER": ("Versailles", 48.8049, 2.1204),
    "LYO": ("Lyon", 45.7640, 4.8357),
    "MAR": ("Marseille", 43.2965, 5.3698),
}
ITEMS = {  # sku -> ean
    "TSHIRT-RED-M": "2000000000015",
    "TSHIRT-RED-L": "2000000000022",
    "JEANS-32": "2000000000039",
}


def now() -> datetime:
    return datetime.now(UTC)


async def seed(
    pool: asyncpg.Pool,
    stock: dict[tuple[str, str], int] | None = None,
    as_of: datetime | None = None,
) -> datetime:
    """Stores, items with PrestaShop keys, and stock (default: 10 of everything)."""
    as_of = as_of or now()
    async with pool.acquire() as conn, conn.transaction():
        for code, (city, lat, lng) in CITIES.items():
            await directory_repo.upsert(
                conn,
                {
                    "store_id": code,
                    "name": f"Omnistock {city}",
                    "city": city,
                    "latitude": lat,
                    "longitude": lng,
                },
            )
        await items_repo.apply_items(conn, [Item(s, e, s.title()) for s, e in ITEMS.items()])
        for n, sku in enumerate(ITEMS, start=1):
            await conn.execute(
                "UPDATE items SET ps_product_id = $2, ps_attribute_id = $3, "
                "ps_reference = $4 WHERE sku = $1",
                sku,
                100 + n,
                n,
                sku.split("-")[0],
            )
        lines = stock or {(c, s): 10 for c in CITIES for s in ITEMS}
        await stock_repo.apply_stock_lines(
            conn, [StockLine(c, s, q) for (c, s), q in lines.items()], as_of
        )
    return as_of


async def set_stock(
    pool: asyncpg.Pool, store: str, sku: str, qty: int, as_of: datetime | None = None
) -> None:
    from stores.notify import STOCK_CHANNEL, notify_changed

    async with pool.acquire() as conn, conn.transaction():
        await stock_repo.apply_stock_lines(conn, [StockLine(store, sku, qty)], as_of or now())
        await notify_changed(conn, STOCK_CHANNEL, [sku])


async def add_hold(
    pool: asyncpg.Pool, store: str, sku: str, qty: int, acked_at: datetime | None = None
) -> None:
    await pool.execute(
        "INSERT INTO stock_holds (store_id, sku, qty, erp_acked_at) VALUES ($1, $2, $3, $4)",
        store,
        sku,
        qty,
        acked_at,
    )


def ago(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)
