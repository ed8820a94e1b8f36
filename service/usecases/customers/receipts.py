"""A customer as omnistock and Cegid know them, and their documents (in-store receipts, web
orders) read from Cegid.

Who: a Cegid customer id (or a Cegid customer reference), an e-mail (the relay's link, else
``SearchCustomerIds``), or ``ps:<PrestaShop customer id>`` (the relay's links). 404 when nobody,
409 when an e-mail or a PrestaShop id names several Cegid customers.

Lists: ``GetHeaderList`` (customer, document types, date window, every ``Pager`` page up to a cap)
stored in PostgreSQL and paged from there newest first with a keyset cursor. A window's read is
reused ``ttl_s``; concurrent reads of one window share one ERP read; a read waits at most
``deadline_s`` for it, then answers from PostgreSQL flagged stale (503 when nothing was ever
read). A document: ``GetByKey``, cached and coalesced the same way, stored with its lines.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg

from service.erp.lazy import ErpSource
from service.erp.port import (
    Customer,
    DocumentKey,
    ErpError,
    SaleDocument,
    SaleHeader,
)
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from service.usecases import cursor as cursors
from service.usecases.clock import utcnow
from service.usecases.customers.links import normalise_email
from service.usecases.single_flight import SingleFlight
from service.usecases.ttl_cache import TtlCache
from stores import customers as repo
from stores.customers import CustomerLink, DocumentRow

T = TypeVar("T")
DOCUMENT_TYPES = ("Receipt", "CustomerOrder")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PS = re.compile(r"^ps:([1-9][0-9]{0,17})$")
_KEY = re.compile(r"^([A-Za-z]{1,40}):([A-Za-z0-9_.-]{0,40}):([0-9]{1,10})$")
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ReceiptSettings:
    ttl_s: float = 30.0
    deadline_s: float = 3.0
    erp_page_size: int = 100
    max_erp_pages: int = 20
    timezone: str = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Who:
    customer_id: str
    resolved_by: str  # customer_id | reference | email | ps_customer_id
    links: tuple[CustomerLink, ...]


def _bad(loc: list[str], message: str) -> InvalidInput:
    return InvalidInput(message, [{"loc": loc, "msg": message, "type": "value_error"}])


def parse_key(text: str) -> DocumentKey:
    """``Type:Stump:Number`` as the lists give it."""
    found = _KEY.match(text)
    if found is None or int(found.group(3)) > MAX_NUMBER:
        raise _bad(["path", "key"], "not a document key (Type:Stump:Number)")
    return DocumentKey(number=int(found.group(3)), stump=found.group(2), type=found.group(1))


_CURSOR_LOC = ("query", "cursor")


def encode_cursor(row: DocumentRow) -> str:
    return cursors.encode_parts([row.doc_date.isoformat() if row.doc_date else None, row.doc_key])


def decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """The (date, document key) a page starts after: an aware moment and a short, printable key."""
    if len(cursor) > 200:
        raise cursors.invalid(_CURSOR_LOC)
    when, key = cursors.decode_parts(cursor, 2, loc=_CURSOR_LOC)
    try:
        moment = None if when is None else datetime.fromisoformat(when)
    except (ValueError, TypeError):
        raise cursors.invalid(_CURSOR_LOC) from None
    if not isinstance(key, str) or len(key) > 200 or any(ord(c) < 32 for c in key):
        raise cursors.invalid(_CURSOR_LOC)
    if moment is not None and moment.tzinfo is None:
        raise cursors.invalid(_CURSOR_LOC)
    return moment, key


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def _number(value: Decimal) -> str:
    return str(value.normalize()) if value == value.to_integral_value() else str(value)


def detail_json(doc: SaleDocument) -> dict[str, Any]:
    """What PostgreSQL keeps of a document's lines and payments."""
    return {
        "lines": [
            {
                "rank": line.rank,
                "sku": line.sku,
                "item_code": line.item_code,
                "barcode": line.barcode,
                "label": line.label,
                "quantity": str(line.quantity),
                "unit_price": None if line.unit_price is None else str(line.unit_price),
                "net_unit_price": None if line.net_unit_price is None else str(line.net_unit_price),
            }
            for line in doc.lines
        ],
        "payments": [
            {"label": p.label, "code": p.code, "amount": str(p.amount), "currency": p.currency}
            for p in doc.payments
        ],
    }


def header_row(doc: SaleDocument) -> DocumentRow:
    h = doc.header
    return DocumentRow(
        doc_key=str(h.key),
        doc_type=h.key.type,
        store_id=h.store_id,
        doc_date=h.date,
        currency=h.currency,
        total_incl_tax=h.total_incl_tax,
        total_excl_tax=h.total_excl_tax,
        total_quantity=h.total_quantity,
        internal_reference=h.internal_reference,
        origin=h.origin,
        status=h.status,
    )


_STORES = "SELECT store_id, name, address, city, postcode FROM stores WHERE store_id = ANY($1)"
_ITEMS = """
SELECT sku, ean, description, ps_product_id, ps_attribute_id, ps_reference FROM items
WHERE sku = ANY($1::text[]) OR ean = ANY($2::text[])
"""
_CARD = """
SELECT card_id, program_label FROM loyalty_cards WHERE customer_id = $1 AND active
ORDER BY card_id LIMIT 1
"""


class ReceiptsReader:
    def __init__(
        self,
        pool: asyncpg.Pool,
        erp: ErpSource,
        settings: ReceiptSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.pool, self.settings, self.clock = pool, settings, clock
        self.tz = ZoneInfo(settings.timezone)
        self.erp = erp  # the app's one client, built on first use (service.erp.lazy)
        self._lists: TtlCache[datetime] = TtlCache(settings.ttl_s)
        # a document with its lines weighs a few KB: fewer of them than of the small entries
        self._docs: TtlCache[SaleDocument] = TtlCache(settings.ttl_s, size=1_000)
        self._customers: TtlCache[Customer] = TtlCache(settings.ttl_s)
        self._cards: TtlCache[dict[str, str]] = TtlCache(settings.ttl_s)
        self._calls: SingleFlight[Any] = SingleFlight()

    async def aclose(self) -> None:
        await self._calls.aclose()

    # ------------------------------------------------------------------ shared ERP reads
    async def _shared(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """One ERP read per key at a time; a reader waits at most ``deadline_s`` for it."""
        result: T = await self._calls.run(key, make, self.settings.deadline_s)
        return result

    # ------------------------------------------------------------------ who
    async def resolve(self, ref: str) -> Who:
        ref = ref.strip()
        if len(ref) > 320 or any(ord(c) < 32 or ord(c) == 127 for c in ref):
            raise _bad(["path", "customer_ref"], "too long or holding control characters")
        if ref.startswith("ps:"):
            return await self._by_ps(ref)
        if "@" in ref:
            return await self._by_email(ref)
        if not _REF.match(ref):
            raise _bad(["path", "customer_ref"], "neither a customer id, an e-mail nor ps:<id>")
        async with self.pool.acquire() as conn:
            links = tuple(await repo.by_erp_customer(conn, ref))
        if links:
            return Who(ref, "customer_id", links)
        try:
            erp = await self.erp()
            customer = await self._shared(f"c:{ref}", partial(erp.customer, ref))
            if customer is not None:
                self._customers.put(ref, customer)
                return Who(ref, "customer_id", ())
            found = await self._shared(f"r:{ref}", partial(erp.customer_id_by_reference, ref))
        except (ErpError, TimeoutError) as exc:
            async with self.pool.acquire() as conn:  # documents read earlier: a known customer
                if await repo.last_read(conn, ref) is not None:
                    return Who(ref, "customer_id", ())
            raise ServiceUnavailable(f"the ERP is unavailable: {exc}") from None
        if not found:
            raise NotFound(f"no customer {ref!r}")
        async with self.pool.acquire() as conn:
            links = tuple(await repo.by_erp_customer(conn, found))
        return Who(found, "reference", links)

    async def _by_ps(self, ref: str) -> Who:
        found = _PS.match(ref)
        if found is None or int(found.group(1)) > 2**63 - 1:
            raise _bad(["path", "customer_ref"], "ps: needs a PrestaShop customer id")
        async with self.pool.acquire() as conn:
            links = await repo.by_ps_customer(conn, int(found.group(1)))
        ids = sorted({link.erp_customer_id for link in links})
        if not ids:
            raise NotFound(f"no customer linked to PrestaShop customer {found.group(1)}")
        if len(ids) > 1:
            raise Conflict(f"{len(ids)} Cegid customers for {ref}", candidates=ids)
        return Who(ids[0], "ps_customer_id", tuple(links))

    async def _by_email(self, ref: str) -> Who:
        email = normalise_email(ref)
        if len(email) > 254 or not _EMAIL.match(email):
            raise _bad(["path", "customer_ref"], "the e-mail is malformed")
        async with self.pool.acquire() as conn:
            link = await repo.get(conn, email)
        if link is not None:
            return Who(link.erp_customer_id, "email", (link,))
        try:
            erp = await self.erp()
            matches = await self._shared(f"e:{email}", partial(erp.search_customers, email, 5))
        except (ErpError, TimeoutError) as exc:
            raise ServiceUnavailable(f"the ERP is unavailable: {exc}") from None
        if not matches:
            raise NotFound(f"no customer with e-mail {email!r}")
        if len(matches) > 1:
            ids = [c.customer_id for c in matches]
            raise Conflict(f"{len(ids)} customers share e-mail {email!r}", candidates=ids)
        self._customers.put(matches[0].customer_id, matches[0])
        return Who(matches[0].customer_id, "email", ())

    # ------------------------------------------------------------------ the customer
    async def customer(self, ref: str) -> dict[str, Any]:
        who = await self.resolve(ref)
        details = self._customers.get(who.customer_id)
        source = "erp"
        if details is None:
            try:
                erp = await self.erp()
                details = await self._shared(
                    f"c:{who.customer_id}", partial(erp.customer, who.customer_id)
                )
            except (ErpError, TimeoutError):
                if not who.links:
                    raise ServiceUnavailable("the ERP is unavailable") from None
                details, source = None, "stored"
            else:
                if details is None:
                    raise NotFound(f"no customer {who.customer_id!r} in the ERP")
                self._customers.put(who.customer_id, details)
        return {
            "customer_id": who.customer_id,
            "resolved_by": who.resolved_by,
            "links": [_link_view(x) for x in who.links],
            "erp": None if details is None else _customer_view(details),
            "source": source,
            "stale": source != "erp",
        }

    # ------------------------------------------------------------------ lists
    def _window(self, since: date | None, until: date | None) -> tuple[datetime | None, ...]:
        begin = None if since is None else datetime.combine(since, time.min, self.tz)
        end = None if until is None else datetime.combine(until, time.max, self.tz)
        return begin, end

    async def _read_list(
        self, customer_id: str, begin: datetime | None, end: datetime | None, window_key: str
    ) -> datetime:
        as_of = self.clock()
        erp = await self.erp()
        headers: list[SaleHeader] = []
        complete = False
        size = self.settings.erp_page_size
        for page_index in range(1, self.settings.max_erp_pages + 1):
            page = await erp.sale_headers(
                customer_id,
                document_types=DOCUMENT_TYPES,
                begin=begin,
                end=end,
                page_index=page_index,
                page_size=size,
            )
            headers.extend(h for h in page if h.customer_id in ("", customer_id))
            if len(page) < size:
                complete = True
                break
        rows = list(
            {
                str(h.key): DocumentRow(
                    str(h.key), h.key.type, h.store_id, h.date, h.currency, h.total_incl_tax,
                    h.total_excl_tax, h.total_quantity, h.internal_reference, h.origin, h.status,
                )
                for h in headers
            }.values()
        )  # fmt: skip
        async with self.pool.acquire() as conn, conn.transaction():
            await repo.save_headers(
                conn,
                customer_id,
                rows,
                as_of=as_of,
                window=(begin, end),
                window_key=window_key,
                complete=complete,
            )
        self._lists.put(f"{customer_id}|{window_key}", as_of)
        return as_of

    async def receipts(
        self,
        ref: str,
        *,
        since: date | None,
        until: date | None,
        cursor: str | None,
        limit: int,
        stores: Collection[str] | None,
    ) -> dict[str, Any]:
        if since is not None and until is not None and until < since:
            raise _bad(["query", "until"], "until is before since")
        after = decode_cursor(cursor) if cursor else None
        who = await self.resolve(ref)
        begin, end = self._window(since, until)
        window_key = f"{since or ''}|{until or ''}"
        as_of = self._lists.get(f"{who.customer_id}|{window_key}")
        source = "cache"
        if as_of is None:
            try:
                as_of = await self._shared(
                    f"l:{who.customer_id}|{window_key}",
                    partial(self._read_list, who.customer_id, begin, end, window_key),
                )
                source = "erp"
            except (ErpError, TimeoutError) as exc:
                async with self.pool.acquire() as conn:
                    as_of = await repo.last_read(conn, who.customer_id)
                if as_of is None:
                    raise ServiceUnavailable(
                        f"the ERP is unavailable and no document of {who.customer_id} is "
                        f"known: {exc}"
                    ) from None
                source = "fallback"
        async with self.pool.acquire() as conn:
            rows = await repo.page(
                conn,
                who.customer_id,
                since=begin,
                until=end,
                stores=None if stores is None else sorted(stores),
                after=after,
                limit=limit + 1,
            )
            names = await self._store_names(conn, {r.store_id for r in rows})
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "customer_id": who.customer_id,
            "items": [_summary(r, names) for r in rows],
            "next_cursor": encode_cursor(rows[-1]) if more else None,
            "as_of": as_of,
            "source": source,
            "stale": source == "fallback",
        }

    async def _store_names(
        self, conn: asyncpg.Connection, ids: Collection[str]
    ) -> dict[str, dict[str, str]]:
        rows = await conn.fetch(_STORES, list(ids))
        return {r["store_id"]: dict(r) for r in rows}

    # ------------------------------------------------------------------ one document
    async def _read_document(self, customer_id: str, key: DocumentKey) -> SaleDocument | None:
        doc = await (await self.erp()).sale_document(key)
        if doc is None or doc.header.customer_id != customer_id:
            return None
        async with self.pool.acquire() as conn:
            await repo.save_detail(
                conn, customer_id, header_row(doc), detail_json(doc), self.clock()
            )
        self._docs.put(f"{customer_id}|{key}", doc)
        return doc

    async def receipt(
        self, ref: str, key_text: str, *, stores: Collection[str] | None
    ) -> dict[str, Any]:
        key = parse_key(key_text)
        who = await self.resolve(ref)
        cache_key = f"{who.customer_id}|{key}"
        doc = self._docs.get(cache_key)
        source, as_of = "cache", self.clock()
        header: DocumentRow
        detail: dict[str, Any]
        if doc is None:
            try:
                doc = await self._shared(
                    f"d:{cache_key}", partial(self._read_document, who.customer_id, key)
                )
                source = "erp"
            except (ErpError, TimeoutError) as exc:
                async with self.pool.acquire() as conn:
                    stored = await repo.one(conn, who.customer_id, str(key))
                if stored is None or stored[1] is None:
                    raise ServiceUnavailable(
                        f"the ERP is unavailable and document {key} was never read: {exc}"
                    ) from None
                header, detail, read_at = stored
                source, as_of = "fallback", read_at or as_of
            if doc is None and source == "erp":
                raise NotFound(f"no document {key} of customer {who.customer_id}")
        if doc is not None:
            header, detail = header_row(doc), detail_json(doc)
        if stores is not None and header.store_id not in stores:
            raise Forbidden(f"this key may not see documents of store {header.store_id!r}")
        async with self.pool.acquire() as conn:
            names = await self._store_names(conn, {header.store_id})
            lines = await self._lines(conn, detail["lines"])
            card = await conn.fetchrow(_CARD, who.customer_id)
        view = _summary(header, names)
        view |= {
            "customer_id": who.customer_id,
            "lines": lines,
            "payments": detail["payments"],
            "loyalty_card": dict(card) if card else await self._card(who.customer_id),
            "as_of": as_of,
            "source": source,
            "stale": source == "fallback",
        }
        return view

    async def _card(self, customer_id: str) -> dict[str, str] | None:
        """The customer's active loyalty card when no reading is stored: asked of the ERP
        (GetCustomerCards), and nothing when it does not answer in time."""
        cached = self._cards.get(customer_id)
        if cached is not None:
            return cached or None
        try:
            erp = await self.erp()
            cards = await self._shared(f"k:{customer_id}", partial(erp.loyalty_cards, customer_id))
        except (ErpError, TimeoutError):
            return None
        active = sorted((c for c in cards if c.active), key=lambda c: c.card_id)
        found = (
            {"card_id": active[0].card_id, "program_label": active[0].program_label}
            if active
            else {}
        )
        self._cards.put(customer_id, found)
        return found or None

    async def _lines(
        self, conn: asyncpg.Connection, lines: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        skus = [x["sku"] for x in lines if x["sku"]]
        eans = [x["barcode"] for x in lines if x["barcode"]]
        known = await conn.fetch(_ITEMS, skus, eans)
        by_sku = {r["sku"]: r for r in known}
        by_ean = {r["ean"]: r for r in known if r["ean"]}
        out = []
        for line in lines:
            item = by_sku.get(line["sku"]) or by_ean.get(line["barcode"])
            quantity = Decimal(line["quantity"])
            price = line["net_unit_price"] or line["unit_price"]
            amount = None if price is None else Decimal(price) * quantity
            ps = None
            if item is not None and item["ps_product_id"] is not None:
                ps = {
                    "id_product": item["ps_product_id"],
                    "id_product_attribute": item["ps_attribute_id"] or 0,
                    "reference": item["ps_reference"],
                }
            out.append(
                {
                    "rank": line["rank"],
                    "label": line["label"] or (item["description"] if item else ""),
                    "quantity": _number(quantity),
                    "unit_price": _money(None if line["unit_price"] is None
                                         else Decimal(line["unit_price"])),
                    "net_unit_price": _money(None if line["net_unit_price"] is None
                                             else Decimal(line["net_unit_price"])),
                    "amount": _money(amount),
                    "sku": item["sku"] if item else (line["sku"] or None),
                    "ean": (item["ean"] if item else None) or line["barcode"] or None,
                    "erp_item_code": line["item_code"] or None,
                    "prestashop": ps,
                }
            )  # fmt: skip
        return out


def _summary(row: DocumentRow, names: dict[str, dict[str, str]]) -> dict[str, Any]:
    store = names.get(row.store_id, {})
    return {
        "key": row.doc_key,
        "type": row.doc_type,
        "store": {
            "id": row.store_id,
            "name": store.get("name", ""),
            "address": store.get("address", ""),
            "city": store.get("city", ""),
            "postcode": store.get("postcode", ""),
        },
        "date": row.doc_date,
        "currency": row.currency,
        "total_incl_tax": _money(row.total_incl_tax),
        "total_excl_tax": _money(row.total_excl_tax),
        "total_quantity": _number(row.total_quantity),
        "internal_reference": row.internal_reference,
        "origin": row.origin,
        "status": row.status,
    }


def _link_view(link: CustomerLink) -> dict[str, Any]:
    return {
        "email": link.email,
        "ps_customer_id": link.ps_customer_id,
        "linked_by": link.linked_by,
        "candidates": list(link.candidates),
        "created_at": link.created_at,
        "updated_at": link.updated_at,
    }


def _customer_view(c: Customer) -> dict[str, Any]:
    return {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "phone": c.phone,
        "usual_store_id": c.usual_store_id,
    }
