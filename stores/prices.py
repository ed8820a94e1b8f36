"""Repository of store prices (base, current, markdown). Explicit connection, never commits.

Writers of what baskets are priced from (store prices here; item categories and rules in
``stores.promotions``) NOTIFY ``PRICING_CHANNEL`` with what changed, so that every API process
drops what it cached (``service.usecases.promotions.prices``). Keys: ``list:<store_id>`` (prices of
that price list), ``sku:<sku>`` (that item in every price list), ``rules``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import asyncpg

from stores.notify import notify_changed


class StorePrice(Protocol):
    """What ``store_prices`` keeps of a price the ERP reported (``service.erp.port.StorePrice``)."""

    @property
    def store_id(self) -> str: ...
    @property
    def barcode(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def base(self) -> Decimal: ...
    @property
    def current(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal: ...
    @property
    def markdown_reason(self) -> str: ...


PRICING_CHANNEL = "omnistock_pricing"
RULES_KEY = "rules"

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS prices_stage (
    store_id text NOT NULL, sku text NOT NULL, barcode text NOT NULL, currency text NOT NULL,
    base_price numeric(12, 2) NOT NULL, current_price numeric(12, 2) NOT NULL,
    discount_percent numeric(7, 3) NOT NULL, markdown_reason text NOT NULL
) ON COMMIT DELETE ROWS
"""
_COLUMNS = (
    "store_id",
    "sku",
    "barcode",
    "currency",
    "base_price",
    "current_price",
    "discount_percent",
    "markdown_reason",
)
_UPSERT_CHANGED = """
INSERT INTO store_prices AS p (store_id, sku, barcode, currency, base_price, current_price,
                               discount_percent, markdown_reason, as_of)
SELECT DISTINCT ON (store_id, sku) store_id, sku, barcode, currency, base_price, current_price,
       discount_percent, markdown_reason, $1
FROM prices_stage ORDER BY store_id, sku
ON CONFLICT (store_id, sku) DO UPDATE
    SET barcode = EXCLUDED.barcode, currency = EXCLUDED.currency,
        base_price = EXCLUDED.base_price, current_price = EXCLUDED.current_price,
        discount_percent = EXCLUDED.discount_percent,
        markdown_reason = EXCLUDED.markdown_reason, as_of = EXCLUDED.as_of
    WHERE (p.barcode, p.currency, p.base_price, p.current_price, p.discount_percent,
           p.markdown_reason)
          IS DISTINCT FROM
          (EXCLUDED.barcode, EXCLUDED.currency, EXCLUDED.base_price, EXCLUDED.current_price,
           EXCLUDED.discount_percent, EXCLUDED.markdown_reason)
RETURNING store_id, sku
"""


def price_list_key(store_id: str) -> str:
    return f"list:{store_id}"


def sku_key(sku: str) -> str:
    return f"sku:{sku}"


async def notify_pricing(conn: asyncpg.Connection, keys: Iterable[str]) -> None:
    """Announce changed pricing data (at commit when inside a transaction)."""
    await notify_changed(conn, PRICING_CHANNEL, keys)


async def apply_prices(
    conn: asyncpg.Connection, prices: Sequence[StorePrice], as_of: datetime
) -> int:
    """Write new or changed prices; return how many. Run inside a transaction: the price lists
    that changed are announced on ``PRICING_CHANNEL`` at commit."""
    if not prices:
        return 0
    await conn.execute(_STAGE)
    await conn.copy_records_to_table(
        "prices_stage",
        records=[
            (
                p.store_id,
                p.sku,
                p.barcode,
                p.currency,
                p.base,
                p.current,
                p.discount_percent,
                p.markdown_reason,
            )
            for p in prices
        ],
        columns=_COLUMNS,
    )
    rows = await conn.fetch(_UPSERT_CHANGED, as_of)
    await conn.execute("TRUNCATE prices_stage")
    if rows:
        await notify_pricing(conn, {price_list_key(r["store_id"]) for r in rows})
    return len(rows)
