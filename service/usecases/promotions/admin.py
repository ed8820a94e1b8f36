"""Promotions administration: basket rules (create/replace, delete, list, import all or nothing),
item categories, and the rules that apply now in a store or on the web.

Every write validates with the domain (``service.domain.promotions.rule_errors``) first, takes
the rule writers' lock and runs in one transaction. Callers invalidate their ``RuleCache``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from service.domain.pricing import explain_rule  # the engine's own wording
from service.domain.promotions import eligibility
from service.errors import InvalidInput, NotFound
from service.usecases import cursor as cursors
from service.usecases.promotions.model import (
    PromotionImport,
    RuleEntry,
    RuleFields,
    checked_rule,
    rule_id_of,
    sku_of,
)
from service.usecases.promotions.pricing import check_store
from service.usecases.promotions.rulebook import RuleCache
from stores import promotions as repo
from stores.promotions import StoredRule as StoredRule

_CURSOR_PREFIX = "r1."


@dataclass(frozen=True, slots=True)
class RulePage:
    items: list[StoredRule]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: list[str]
    updated: list[str]
    deleted: list[str]
    categorised: list[str]  # SKUs whose categories were replaced


@dataclass(frozen=True, slots=True)
class ActivePromotion:
    entry: RuleEntry
    description: str


# --------------------------------------------------------------------------- rules
async def put_rule(pool: asyncpg.Pool, rule_id: str, fields: RuleFields) -> tuple[StoredRule, bool]:
    """Create or replace one rule; return it and whether it was created. 422 when invalid."""
    rule_id = rule_id_of(rule_id)
    checked_rule(rule_id, fields)
    async with pool.acquire() as conn, conn.transaction():
        await repo.lock_rules(conn)
        return await repo.save_rule(conn, rule_id, fields.stored())


async def delete_rule(pool: asyncpg.Pool, rule_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await repo.lock_rules(conn)
        if not await repo.delete_rule(conn, rule_id):
            raise NotFound(f"no promotion rule {rule_id!r}", rule_id=rule_id)


async def list_rules(pool: asyncpg.Pool, *, cursor: str | None, limit: int) -> RulePage:
    """Every rule by id, a page at a time."""
    after = cursors.decode(cursor, prefix=_CURSOR_PREFIX) if cursor is not None else None
    async with pool.acquire() as conn:
        rules = await repo.rules_page(conn, after, limit + 1)
    more = len(rules) > limit
    items = rules[:limit]
    return RulePage(
        items, cursors.encode(items[-1].rule_id, prefix=_CURSOR_PREFIX) if more else None
    )


# --------------------------------------------------------------------------- categories
async def set_item_categories(
    pool: asyncpg.Pool, sku: str, categories: Sequence[str]
) -> tuple[str, list[str]]:
    """Replace an item's categories (404 when there is no such item); return the SKU as stored
    and the categories, sorted."""
    sku = sku_of(sku)
    wanted = sorted(set(categories))
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.known_skus(conn, [sku]):
            raise NotFound(f"no item with SKU {sku!r}", sku=sku)
        await repo.set_categories(conn, {sku: wanted})
    return sku, wanted


# --------------------------------------------------------------------------- import
async def import_promotions(
    pool: asyncpg.Pool, document: PromotionImport, *, replace: bool = False
) -> ImportReport:
    """Write a validated import in one transaction, all or nothing: every rule created or
    replaced, every listed item's categories replaced; with ``replace``, rules not in the file
    are deleted. 422 (nothing written) when the file names items we do not know."""
    skus = sorted(document.item_categories)
    ids = document.rule_ids
    async with pool.acquire() as conn, conn.transaction():
        unknown = sorted(set(skus) - await repo.known_skus(conn, skus))
        if unknown:
            errors = [
                {"loc": ["item_categories", s], "msg": f"no item with SKU {s!r}", "type": "unknown"}
                for s in unknown
            ]
            raise InvalidInput("the import names unknown items; nothing was written", errors)
        await repo.lock_rules(conn)
        existing = await repo.existing_rule_ids(conn, ids)
        deleted = await repo.delete_rules_except(conn, ids) if replace else []
        await repo.save_rules(conn, {r.id: r.stored() for r in document.rules})
        await repo.set_categories(conn, document.item_categories)
    return ImportReport(
        created=[i for i in ids if i not in existing],
        updated=[i for i in ids if i in existing],
        deleted=deleted,
        categorised=skus,
    )


# --------------------------------------------------------------------------- what applies
async def active_promotions(
    pool: asyncpg.Pool,
    rules: RuleCache,
    *,
    channel: str,
    store_id: str | None,
    web_store_id: str,
    at: datetime | None = None,
) -> list[ActivePromotion]:
    """Rules that apply now on ``channel`` in ``store_id`` (window, channel and store list), in
    the order the engine runs them. Loyalty-only rules are included (flagged by the entry)."""
    at = at or datetime.now(UTC)
    if store_id is not None:
        async with pool.acquire() as conn:
            await check_store(conn, store_id, web_store_id)
    loaded = await rules.current(pool)
    return [
        ActivePromotion(loaded.entries[rule.id], explain_rule(rule, rule.currency))
        for rule in loaded.book.rules
        if eligibility(
            rule,
            channel=channel,
            store_id=store_id,
            loyalty_member=True,
            currency=rule.currency,
            at=at,
        )
        is None
    ]
