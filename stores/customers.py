"""Repository of web customers (the shopper -> Cegid customer link) and of the customer documents
read from Cegid (receipts, web orders). Explicit connection, never commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

_COLUMNS = """email, ps_customer_id, erp_customer_id, first_name, last_name, phone,
    usual_store_id, linked_by, candidates, created_at, updated_at"""
# The lock of one shopper's resolution, held until the transaction ends: two relays resolving the
# same e-mail take turns, so the second finds the link the first wrote.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('omnistock.customer:' || $1, 0))"
_GET = f"SELECT {_COLUMNS} FROM customers WHERE email = $1"
_BY_PS = f"SELECT {_COLUMNS} FROM customers WHERE ps_customer_id = $1 ORDER BY updated_at DESC"
_BY_ERP = f"SELECT {_COLUMNS} FROM customers WHERE erp_customer_id = $1 ORDER BY updated_at DESC"
_INSERT = f"""
INSERT INTO customers (email, ps_customer_id, erp_customer_id, first_name, last_name, phone,
                       usual_store_id, linked_by, candidates)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[])
ON CONFLICT (email) DO UPDATE SET ps_customer_id = coalesce(EXCLUDED.ps_customer_id,
        customers.ps_customer_id),
    erp_customer_id = EXCLUDED.erp_customer_id, first_name = EXCLUDED.first_name,
    last_name = EXCLUDED.last_name, phone = EXCLUDED.phone,
    usual_store_id = EXCLUDED.usual_store_id, linked_by = EXCLUDED.linked_by,
    candidates = EXCLUDED.candidates, updated_at = now()
RETURNING {_COLUMNS}
"""
_UPDATE = f"""
UPDATE customers SET first_name = $2, last_name = $3, phone = $4,
    ps_customer_id = coalesce($5, ps_customer_id), updated_at = now()
WHERE email = $1
RETURNING {_COLUMNS}
"""


@dataclass(frozen=True, slots=True)
class CustomerLink:
    email: str
    ps_customer_id: int | None
    erp_customer_id: str
    first_name: str
    last_name: str
    phone: str
    usual_store_id: str
    linked_by: str
    candidates: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def _link(row: asyncpg.Record | None) -> CustomerLink | None:
    if row is None:
        return None
    values = dict(row)
    values["candidates"] = tuple(values["candidates"] or ())
    return CustomerLink(**values)


async def lock(conn: asyncpg.Connection, email: str) -> None:
    await conn.execute(_LOCK, email)


async def get(conn: asyncpg.Connection, email: str) -> CustomerLink | None:
    return _link(await conn.fetchrow(_GET, email))


async def by_ps_customer(conn: asyncpg.Connection, ps_customer_id: int) -> list[CustomerLink]:
    return [link for r in await conn.fetch(_BY_PS, ps_customer_id) if (link := _link(r))]


async def by_erp_customer(conn: asyncpg.Connection, erp_customer_id: str) -> list[CustomerLink]:
    return [link for r in await conn.fetch(_BY_ERP, erp_customer_id) if (link := _link(r))]


async def save(
    conn: asyncpg.Connection,
    *,
    email: str,
    ps_customer_id: int | None,
    erp_customer_id: str,
    first_name: str,
    last_name: str,
    phone: str,
    usual_store_id: str,
    linked_by: str,
    candidates: Sequence[str] = (),
) -> CustomerLink:
    row = await conn.fetchrow(
        _INSERT,
        email,
        ps_customer_id,
        erp_customer_id,
        first_name,
        last_name,
        phone,
        usual_store_id,
        linked_by,
        list(candidates),
    )
    link = _link(row)
    assert link is not None
    return link


async def update_details(
    conn: asyncpg.Connection,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    ps_customer_id: int | None,
) -> None:
    await conn.execute(_UPDATE, email, first_name, last_name, phone, ps_customer_id)


# --------------------------------------------------------------------------- documents
_DOC_COLUMNS = """doc_key, doc_type, store_id, doc_date, currency, total_incl_tax, total_excl_tax,
    total_quantity, internal_reference, origin, status"""
_SAVE_HEADERS = """
INSERT INTO customer_documents (erp_customer_id, doc_key, doc_type, store_id, doc_date, currency,
    total_incl_tax, total_excl_tax, total_quantity, internal_reference, origin, status, listed_at)
SELECT $1, k, t, s, d, c, ti, te, q, r, o, st, $13
FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::numeric[],
            $8::numeric[], $9::numeric[], $10::text[], $11::text[], $12::text[])
    AS x(k, t, s, d, c, ti, te, q, r, o, st)
ON CONFLICT (erp_customer_id, doc_key) DO UPDATE SET doc_type = EXCLUDED.doc_type,
    store_id = EXCLUDED.store_id, doc_date = EXCLUDED.doc_date, currency = EXCLUDED.currency,
    total_incl_tax = EXCLUDED.total_incl_tax, total_excl_tax = EXCLUDED.total_excl_tax,
    total_quantity = EXCLUDED.total_quantity, internal_reference = EXCLUDED.internal_reference,
    origin = EXCLUDED.origin, status = EXCLUDED.status, listed_at = EXCLUDED.listed_at
"""
# Documents of the window the ERP no longer lists (a complete read): forgotten.
_FORGET = """
DELETE FROM customer_documents
WHERE erp_customer_id = $1 AND doc_key <> ALL($2::text[]) AND listed_at < $5
  AND ($3::timestamptz IS NULL OR doc_date >= $3) AND ($4::timestamptz IS NULL OR doc_date <= $4)
"""
_SAVE_READ = """
INSERT INTO customer_document_reads (erp_customer_id, window_key, as_of) VALUES ($1, $2, $3)
ON CONFLICT (erp_customer_id, window_key) DO UPDATE SET as_of = EXCLUDED.as_of
WHERE customer_document_reads.as_of < EXCLUDED.as_of
"""
_LAST_READ = """
SELECT max(as_of) FROM customer_document_reads WHERE erp_customer_id = $1
  AND ($2::text IS NULL OR window_key = $2)
"""
# Newest first; keyset: after (date, key) of the cursor; documents without a date come last.
_PAGE = f"""
SELECT {_DOC_COLUMNS} FROM customer_documents
WHERE erp_customer_id = $1
  AND ($2::timestamptz IS NULL OR doc_date >= $2) AND ($3::timestamptz IS NULL OR doc_date <= $3)
  AND ($4::text[] IS NULL OR store_id = ANY($4::text[]))
  AND ($5::text IS NULL OR (coalesce(doc_date, '-infinity'), doc_key)
                           < (coalesce($6::timestamptz, '-infinity'), $5))
ORDER BY coalesce(doc_date, '-infinity') DESC, doc_key DESC
LIMIT $7
"""
_ONE = f"""
SELECT {_DOC_COLUMNS}, detail, detail_at, listed_at FROM customer_documents
WHERE erp_customer_id = $1 AND doc_key = $2
"""
_SAVE_DETAIL = f"""
INSERT INTO customer_documents (erp_customer_id, doc_key, doc_type, store_id, doc_date, currency,
    total_incl_tax, total_excl_tax, total_quantity, internal_reference, origin, status,
    listed_at, detail, detail_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::jsonb, $13)
ON CONFLICT (erp_customer_id, doc_key) DO UPDATE SET doc_type = EXCLUDED.doc_type,
    store_id = EXCLUDED.store_id, doc_date = EXCLUDED.doc_date, currency = EXCLUDED.currency,
    total_incl_tax = EXCLUDED.total_incl_tax, total_excl_tax = EXCLUDED.total_excl_tax,
    total_quantity = EXCLUDED.total_quantity, internal_reference = EXCLUDED.internal_reference,
    origin = EXCLUDED.origin, status = EXCLUDED.status, detail = EXCLUDED.detail,
    detail_at = EXCLUDED.detail_at
RETURNING {_DOC_COLUMNS}
"""


@dataclass(frozen=True, slots=True)
class DocumentRow:
    doc_key: str
    doc_type: str
    store_id: str
    doc_date: datetime | None
    currency: str
    total_incl_tax: Decimal
    total_excl_tax: Decimal
    total_quantity: Decimal
    internal_reference: str
    origin: str
    status: str


def _doc(row: asyncpg.Record) -> DocumentRow:
    return DocumentRow(**{k: row[k] for k in DocumentRow.__slots__})


async def save_headers(
    conn: asyncpg.Connection,
    customer_id: str,
    rows: Sequence[DocumentRow],
    *,
    as_of: datetime,
    window: tuple[datetime | None, datetime | None],
    window_key: str,
    complete: bool = True,
) -> None:
    """Store a read of one window: its documents; when ``complete``, the documents of the window
    it no longer lists are forgotten."""
    columns = list(
        zip(*[[getattr(r, k) for k in DocumentRow.__slots__] for r in rows], strict=True)
    )
    if rows:
        await conn.execute(_SAVE_HEADERS, customer_id, *map(list, columns), as_of)
    keys = [r.doc_key for r in rows]
    if complete:
        await conn.execute(_FORGET, customer_id, keys, window[0], window[1], as_of)
    await conn.execute(_SAVE_READ, customer_id, window_key, as_of)


async def last_read(
    conn: asyncpg.Connection, customer_id: str, window_key: str | None = None
) -> datetime | None:
    value: datetime | None = await conn.fetchval(_LAST_READ, customer_id, window_key)
    return value


async def page(
    conn: asyncpg.Connection,
    customer_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    stores: Sequence[str] | None,
    after: tuple[datetime | None, str] | None,
    limit: int,
) -> list[DocumentRow]:
    after_date, after_key = after if after is not None else (None, None)
    rows = await conn.fetch(
        _PAGE,
        customer_id,
        since,
        until,
        None if stores is None else list(stores),
        after_key,
        after_date,
        limit,
    )
    return [_doc(r) for r in rows]


async def one(
    conn: asyncpg.Connection, customer_id: str, doc_key: str
) -> tuple[DocumentRow, Any, datetime | None] | None:
    """(header, detail JSON or None, when the detail was read) of one stored document."""
    row = await conn.fetchrow(_ONE, customer_id, doc_key)
    if row is None:
        return None
    detail = row["detail"]
    return _doc(row), (json.loads(detail) if isinstance(detail, str) else detail), row["detail_at"]


async def save_detail(
    conn: asyncpg.Connection, customer_id: str, header: DocumentRow, detail: Any, as_of: datetime
) -> None:
    values = [getattr(header, k) for k in DocumentRow.__slots__]
    await conn.execute(_SAVE_DETAIL, customer_id, *values, as_of, json.dumps(detail))
