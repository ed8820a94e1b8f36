"""Prices: an item's store price, and a basket priced by the promotions engine.

Base and current (marked-down) prices come from ``store_prices`` (Cegid's price engine, synced):
the store's rows for a store basket, or the rows of the web price list (the web store's code,
``OMNISTOCK_WEB_STORE_ID``) for a web basket without a store, through the app's ``PriceCache``
when it has one (``service.usecases.promotions.prices``). Rules come from the in-process
``RuleCache``; the amounts from ``service.domain.pricing.price_basket``, which is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from service.domain.pricing import Basket, BasketLine, PricedBasket, price_basket
from service.errors import Conflict, InvalidInput, NotFound
from service.usecases.catalog.identifiers import (
    ItemLookup,
    ResolvedItem,
    resolve_item,
    resolve_items,
)
from service.usecases.promotions.prices import PriceCache
from service.usecases.promotions.rulebook import RuleCache
from stores import promotions as repo
from stores.promotions import PriceRow as PriceRow

_ISO_CURRENCY = re.compile(r"[A-Z]{3}")


class PriceMissing(Conflict):
    """Items without a synced price in the price list: the basket cannot be priced."""

    slug = "price-missing"
    title = "No price for some items"


@dataclass(frozen=True, slots=True)
class BasketQuery:
    channel: str  # "web" or "store"
    lookups: Sequence[ItemLookup]
    quantities: Sequence[int]
    store_id: str | None = None
    loyalty_member: bool = False
    currency: str | None = None  # None: the price list's


@dataclass(frozen=True, slots=True)
class BasketQuote:
    """A priced basket with what it was priced from. ``items`` and ``prices`` follow the lines."""

    price_list: str
    store_id: str | None
    priced_at: datetime
    items: list[ResolvedItem]
    prices: list[PriceRow]
    result: PricedBasket
    rules_version: int


def _unknown_store(store_id: str) -> NotFound:
    return NotFound(f"no store {store_id!r} in the directory", store_id=store_id)


async def check_store(conn: asyncpg.Connection, store_id: str, web_store_id: str) -> None:
    """404 unless ``store_id`` is in the directory or is the web store's code."""
    if store_id != web_store_id and not await repo.store_exists(conn, store_id):
        raise _unknown_store(store_id)


async def store_price(
    pool: asyncpg.Pool, lookup: ItemLookup, store_id: str, *, web_store_id: str
) -> tuple[ResolvedItem, PriceRow]:
    """The item's price in the store; 404 naming the item, the store or the missing price."""
    async with pool.acquire() as conn:
        item = await resolve_item(
            conn,
            sku=lookup.sku,
            ean=lookup.ean,
            ps_product=lookup.ps_product,
            ps_attribute=lookup.ps_attribute,
            reference=lookup.reference,
        )
        known, rows = await repo.price_rows(conn, store_id, [item.sku])
    if store_id != web_store_id and not known:
        raise _unknown_store(store_id)
    if item.sku not in rows:
        detail = f"no price synced for SKU {item.sku!r} in store {store_id!r}"
        raise NotFound(detail, sku=item.sku, store_id=store_id)
    return item, rows[item.sku]


def _line_prices(
    items: Sequence[ResolvedItem], rows: dict[str, PriceRow], price_list: str
) -> list[PriceRow]:
    missing = [{"line": n, "sku": i.sku} for n, i in enumerate(items) if i.sku not in rows]
    if missing:
        names = ", ".join(f"line {m['line']}: {m['sku']}" for m in missing)
        raise PriceMissing(
            f"no price synced in price list {price_list!r} for {names}",
            price_list=price_list,
            missing=missing,
        )
    return [rows[i.sku] for i in items]


def _currency(query: BasketQuery, prices: Sequence[PriceRow], price_list: str) -> str:
    currency = query.currency or prices[0].currency
    if not _ISO_CURRENCY.fullmatch(currency):
        raise Conflict(f"price list {price_list!r} gives currency {currency!r}, not an ISO code")
    errors: list[dict[str, Any]] = [
        {
            "loc": ["lines", n],
            "msg": f"{p.sku} is priced in {p.currency} in price list {price_list!r}, "
            f"the basket is in {currency}",
            "type": "currency_mismatch",
        }
        for n, p in enumerate(prices)
        if p.currency != currency
    ]
    if errors:
        raise InvalidInput("some lines are priced in another currency", errors)
    return currency


async def _read(
    pool: asyncpg.Pool,
    prices: PriceCache | None,
    query: BasketQuery,
    price_list: str,
    web_store_id: str,
) -> tuple[list[ResolvedItem], list[PriceRow]]:
    async with pool.acquire() as conn:
        items = await resolve_items(conn, query.lookups)
        skus = sorted({i.sku for i in items})
        if prices is None:
            known, rows = await repo.price_rows(conn, price_list, skus)
        else:
            known, rows = await prices.price_rows(conn, price_list, skus)
    if price_list != web_store_id and not known:
        raise _unknown_store(price_list)
    return items, _line_prices(items, rows, price_list)


async def quote_basket(
    pool: asyncpg.Pool,
    rules: RuleCache,
    query: BasketQuery,
    *,
    web_store_id: str,
    prices: PriceCache | None = None,
    at: datetime | None = None,
) -> BasketQuote:
    """Price the basket: 404 unknown item/store, 409 ambiguous item or price missing, 422 bad
    identifiers or currency. Store prices come from ``prices`` when given."""
    if query.channel == "store" and query.store_id is None:
        msg = "a store basket needs store_id"
        raise InvalidInput(msg, [{"loc": ["store_id"], "msg": msg, "type": "missing"}])
    at = at or datetime.now(UTC)
    loaded = await rules.current(pool)
    price_list = query.store_id or web_store_id
    items, rows = await _read(pool, prices, query, price_list, web_store_id)
    basket = Basket(
        channel=query.channel,
        lines=tuple(
            BasketLine(i.sku, qty, p.base_price, p.current_price, p.categories)
            for i, qty, p in zip(items, query.quantities, rows, strict=True)
        ),
        currency=_currency(query, rows, price_list),
        store_id=query.store_id,
        loyalty_member=query.loyalty_member,
    )
    return BasketQuote(
        price_list=price_list,
        store_id=query.store_id,
        priced_at=at,
        items=items,
        prices=rows,
        result=price_basket(basket, loaded.book, at),
        rules_version=loaded.version,
    )
