"""Repository of promotion rules, item categories and the price rows a basket is priced from.

Explicit connection, never commits. Rule writers call ``lock_rules`` first in their transaction:
writes then take turns and ``updated_at`` (clock_timestamp() after the lock) follows commit
order, so ``signature`` changes with every committed change (see sql/0007_promotions.sql).
Rules are written and read as JSON text, whatever codecs the connection has. Rule and category
writes are announced on ``stores.prices.PRICING_CHANNEL`` (at commit, in a transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from stores.prices import RULES_KEY, notify_pricing, sku_key

PROMOTIONS_LOCK_KEY = 7_302_466_911_007  # serialises rule writers (see the module docstring)

_LOCK = "SELECT pg_advisory_xact_lock($1)"
_RULE_COLUMNS = "rule_id, rule::text AS rule, created_at, updated_at"
_SAVE = """
INSERT INTO promotion_rules (rule_id, rule, created_at, updated_at)
VALUES ($1, $2::text::jsonb, clock_timestamp(), clock_timestamp())
ON CONFLICT (rule_id) DO UPDATE SET rule = EXCLUDED.rule, updated_at = clock_timestamp()
"""
_SAVE_ONE = _SAVE + f"RETURNING (xmax = 0) AS created, {_RULE_COLUMNS}"
_DELETE = "DELETE FROM promotion_rules WHERE rule_id = $1"
_DELETE_OTHERS = """
DELETE FROM promotion_rules WHERE NOT (rule_id = ANY($1::text[])) RETURNING rule_id
"""
_EXISTING = "SELECT rule_id FROM promotion_rules WHERE rule_id = ANY($1::text[])"
_GET = f"SELECT {_RULE_COLUMNS} FROM promotion_rules WHERE rule_id = $1"
_PAGE = f"""
SELECT {_RULE_COLUMNS} FROM promotion_rules
WHERE $1::text IS NULL OR rule_id > $1 ORDER BY rule_id LIMIT $2
"""
_ALL = f"SELECT {_RULE_COLUMNS} FROM promotion_rules ORDER BY rule_id"
_SIGNATURE = "SELECT count(*) AS n, max(updated_at) AS latest FROM promotion_rules"

_KNOWN_SKUS = "SELECT sku FROM items WHERE sku = ANY($1::text[])"
_CLEAR_CATEGORIES = "DELETE FROM item_categories WHERE sku = ANY($1::text[])"
_ADD_CATEGORIES = """
INSERT INTO item_categories (sku, category)
SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING
"""
_CATEGORIES = """
SELECT sku, array_agg(category ORDER BY category) AS categories FROM item_categories
WHERE sku = ANY($1::text[]) GROUP BY sku
"""

_STORE_EXISTS = "SELECT EXISTS (SELECT 1 FROM stores WHERE store_id = $1)"
# Whether the store is in the directory, and its price rows: one row with a NULL sku when none.
_PRICES = """
SELECT k.known, p.sku, p.currency, p.base_price, p.current_price, p.discount_percent,
       p.markdown_reason, p.as_of,
       ARRAY(SELECT c.category FROM item_categories c WHERE c.sku = p.sku ORDER BY c.category)
           AS categories
FROM (SELECT EXISTS (SELECT 1 FROM stores WHERE store_id = $1) AS known) k
LEFT JOIN store_prices p ON p.store_id = $1 AND p.sku = ANY($2::text[])
"""

Signature = tuple[int, datetime | None]


@dataclass(frozen=True, slots=True)
class StoredRule:
    rule_id: str
    rule: dict[str, Any]  # the rule's fields as the admin API takes them, without the id
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PriceRow:
    """A store price from Cegid's price engine, with the item's categories."""

    sku: str
    currency: str
    base_price: Decimal
    current_price: Decimal
    discount_percent: Decimal
    markdown_reason: str
    as_of: datetime
    categories: frozenset[str]


def _rule(row: asyncpg.Record) -> StoredRule:
    return StoredRule(row["rule_id"], json.loads(row["rule"]), row["created_at"], row["updated_at"])


# --------------------------------------------------------------------------- rules
async def lock_rules(conn: asyncpg.Connection) -> None:
    """Take the rule writers' lock until the end of the transaction, and announce a rule change
    at commit (every rule writer takes the lock; a rolled back write announces nothing)."""
    await conn.execute(_LOCK, PROMOTIONS_LOCK_KEY)
    await notify_pricing(conn, [RULES_KEY])


async def save_rule(
    conn: asyncpg.Connection, rule_id: str, rule: Mapping[str, Any]
) -> tuple[StoredRule, bool]:
    """Create or replace one rule; return it and whether it was created."""
    row = await conn.fetchrow(_SAVE_ONE, rule_id, json.dumps(rule))
    assert row is not None
    return _rule(row), bool(row["created"])


async def save_rules(conn: asyncpg.Connection, rules: Mapping[str, Mapping[str, Any]]) -> None:
    """Create or replace many rules (rule id -> fields) in one round trip."""
    if rules:
        await conn.executemany(_SAVE, [(k, json.dumps(v)) for k, v in rules.items()])


async def existing_rule_ids(conn: asyncpg.Connection, rule_ids: Sequence[str]) -> set[str]:
    return {r["rule_id"] for r in await conn.fetch(_EXISTING, list(rule_ids))}


async def delete_rule(conn: asyncpg.Connection, rule_id: str) -> bool:
    """Delete one rule; False when there was none."""
    return bool(await conn.execute(_DELETE, rule_id) == "DELETE 1")


async def delete_rules_except(conn: asyncpg.Connection, keep: Sequence[str]) -> list[str]:
    """Delete every rule not in ``keep``; return the deleted ids."""
    return sorted(r["rule_id"] for r in await conn.fetch(_DELETE_OTHERS, list(keep)))


async def get_rule(conn: asyncpg.Connection, rule_id: str) -> StoredRule | None:
    row = await conn.fetchrow(_GET, rule_id)
    return None if row is None else _rule(row)


async def rules_page(conn: asyncpg.Connection, after: str | None, limit: int) -> list[StoredRule]:
    """Rules by id, after ``after`` (exclusive), at most ``limit``."""
    return [_rule(r) for r in await conn.fetch(_PAGE, after, limit)]


async def all_rules(conn: asyncpg.Connection) -> list[StoredRule]:
    return [_rule(r) for r in await conn.fetch(_ALL)]


async def signature(conn: asyncpg.Connection) -> Signature:
    """(count, latest updated_at): changes whenever a rule is written or deleted."""
    row = await conn.fetchrow(_SIGNATURE)
    assert row is not None
    return int(row["n"]), row["latest"]


def signature_of(rules: Iterable[StoredRule]) -> Signature:
    """What ``signature`` answered when ``rules`` were read."""
    stamps = [r.updated_at for r in rules]
    return len(stamps), max(stamps, default=None)


# --------------------------------------------------------------------------- categories
async def known_skus(conn: asyncpg.Connection, skus: Sequence[str]) -> set[str]:
    return {r["sku"] for r in await conn.fetch(_KNOWN_SKUS, list(skus))}


async def set_categories(conn: asyncpg.Connection, categories: Mapping[str, Sequence[str]]) -> None:
    """Replace the categories of each SKU in ``categories`` (an empty list clears them)."""
    if not categories:
        return
    await notify_pricing(conn, [sku_key(sku) for sku in categories])
    await conn.execute(_CLEAR_CATEGORIES, list(categories))
    pairs = [(sku, c) for sku, cats in categories.items() for c in cats]
    if pairs:
        await conn.execute(_ADD_CATEGORIES, [p[0] for p in pairs], [p[1] for p in pairs])


async def categories_of(conn: asyncpg.Connection, skus: Sequence[str]) -> dict[str, list[str]]:
    """SKU -> its categories, sorted; SKUs without any are left out."""
    rows = await conn.fetch(_CATEGORIES, list(skus))
    return {r["sku"]: list(r["categories"]) for r in rows}


# --------------------------------------------------------------------------- prices
async def store_exists(conn: asyncpg.Connection, store_id: str) -> bool:
    return bool(await conn.fetchval(_STORE_EXISTS, store_id))


async def price_rows(
    conn: asyncpg.Connection, store_id: str, skus: Sequence[str]
) -> tuple[bool, dict[str, PriceRow]]:
    """Whether ``store_id`` is in the store directory, and SKU -> its price there (with its
    categories); SKUs without a price are left out."""
    rows = await conn.fetch(_PRICES, store_id, list(skus))
    return bool(rows[0]["known"]), {
        r["sku"]: PriceRow(
            sku=r["sku"],
            currency=r["currency"],
            base_price=r["base_price"],
            current_price=r["current_price"],
            discount_percent=r["discount_percent"],
            markdown_reason=r["markdown_reason"],
            as_of=r["as_of"],
            categories=frozenset(r["categories"]),
        )
        for r in rows
        if r["sku"] is not None
    }
