"""In-memory state of the simulated Cegid Y2 tenant.

Stock is kept per store as a compact ``array('i')`` indexed like ``items`` so that a benchmark
tenant (50 stores x 20,000 SKUs) stays small. ``available = on_hand - reserved`` (floored at 0),
where ``reserved`` is what open orders/reservations hold, as the ERP counts them.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from service.erp.simulator.faults import FaultPlan
from service.erp.simulator.journal import Journal

ITEM_ID_WIDTH = 34  # Cegid GA_ARTICLE: code padded to 34 characters, then a trailing marker
_MARKER = re.compile(r"\s+X$")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def padded_item_id(sku: str) -> str:
    """The fixed-width internal id Cegid returns for ``sku`` ('SKU123' + spaces + 'X')."""
    return sku.ljust(ITEM_ID_WIDTH) + "X"


def trim_item_id(raw: str) -> str:
    """Inverse of :func:`padded_item_id`; also accepts an already trimmed SKU."""
    return _MARKER.sub("", raw.strip()).strip()


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """A store of the tenant with its warehouse. ``ecommerce``: the web store (its price list
    and its web warehouse's stock), with no place a shopper can visit (no position, no hours)."""

    code: str
    name: str
    address: str
    city: str
    postcode: str
    country: str
    lat: float | None
    lng: float | None
    timezone: str
    hours: dict[str, tuple[str, str] | None]  # weekday ('mon'..'sun') -> (open, close) or closed
    ecommerce: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hours"] = {day: list(span) if span else None for day, span in self.hours.items()}
        return data


@dataclass(frozen=True, slots=True)
class ItemRecord:
    sku: str
    ean: str
    description: str
    model: str
    size: str
    colour: str
    base_price: Decimal

    @property
    def item_id(self) -> str:
        return padded_item_id(self.sku)


@dataclass(frozen=True, slots=True)
class Markdown:
    current: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    usual_store_id: str
    title_id: str = ""
    address_line1: str = ""
    city: str = ""
    zip_code: str = ""
    country_id: str = "FRA"
    updated_at: datetime | None = None  # LastDateUpdate
    creation_store_id: str = ""


@dataclass(slots=True)
class CardRecord:
    card_id: str
    customer_id: str
    program_id: str
    program_label: str
    points: Decimal
    active: bool
    activated_on: date
    expires_on: date
    store_id: str


@dataclass(slots=True)
class SimLine:
    item: int  # index into SimulatorState.items
    quantity: int
    unit_price: Decimal | None
    label: str


@dataclass(slots=True)
class SimDocument:
    doc_type: str
    stump: str
    number: int
    internal_reference: str
    external_reference: str
    customer_id: str
    store_id: str
    delivery_store_id: str
    delivery_type: str
    lines: list[SimLine]
    date: datetime | None = None
    expiration: datetime | None = None
    currency: str = "EUR"
    comment: str = ""
    follow_up_status: str = "ToBeProcessed"
    payment_status: str = ""
    cancel_status: str = ""
    cancel_reason: str = ""
    cancel_date: datetime | None = None
    active: bool = True
    holds_stock: bool = False  # True while its lines count in ``reserved`` of the delivery store
    received_xml: str = ""
    origin: str = "ECommerce"
    payment_label: str = ""  # receipts of the demo history: how they were paid


@dataclass
class SimulatorState:
    stores: dict[str, StoreRecord]
    items: list[ItemRecord]
    stock: dict[str, array[int]]  # store code -> on-hand quantity per item index
    markdowns: dict[tuple[str, int], Markdown] = field(default_factory=dict)
    customers: dict[str, CustomerRecord] = field(default_factory=dict)
    cards: dict[str, CardRecord] = field(default_factory=dict)
    web_store_ids: frozenset[str] = frozenset({"WEB"})  # may sell; stocked when in ``stores``
    currency: str = "EUR"
    reserved: dict[tuple[str, int], int] = field(default_factory=dict)
    documents: dict[tuple[str, str, int], SimDocument] = field(default_factory=dict)
    # in-store sales history (receipts, read only): GetHeaderList and GetByKey find them too
    receipts: dict[tuple[str, str, int], SimDocument] = field(default_factory=dict)
    next_number: int = 1020000001
    journal: Journal = field(default_factory=Journal)
    faults: FaultPlan = field(default_factory=FaultPlan)
    # False: items GetListDetail without Barcodes/Ids answers no item, as a tenant may (the one
    # public client of that operation always sends ids)
    lists_items_without_ids: bool = True
    sku_index: dict[str, int] = field(init=False, repr=False)
    ean_index: dict[str, int] = field(init=False, repr=False)
    _baseline: tuple[Any, ...] = field(init=False, repr=False)
    _references: dict[str, list[tuple[str, str, int]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sku_index = {item.sku: i for i, item in enumerate(self.items)}
        self.ean_index = {item.ean: i for i, item in enumerate(self.items) if item.ean}
        self._references = {}
        for store in self.stores:
            self.stock.setdefault(store, array("i", bytes(4 * len(self.items))))
        self.mark_baseline()

    # ------------------------------------------------------------------ lookups
    def find_item(self, identifier: str) -> int | None:
        """Item index from an EAN, a SKU or a padded Cegid item id."""
        if not identifier:
            return None
        found = self.ean_index.get(identifier.strip())
        return found if found is not None else self.sku_index.get(trim_item_id(identifier))

    def is_selling_store(self, store_id: str) -> bool:
        return store_id in self.stores or store_id in self.web_store_ids

    # ------------------------------------------------------------------ stock
    def on_hand(self, store_id: str, item: int) -> int:
        return self.stock[store_id][item]

    def available(self, store_id: str, item: int) -> int:
        return max(0, self.stock[store_id][item] - self.reserved.get((store_id, item), 0))

    def set_on_hand(self, store_id: str, item: int, qty: int) -> None:
        self.stock[store_id][item] = qty

    def hold(self, store_id: str, item: int, qty: int) -> None:
        key = (store_id, item)
        self.reserved[key] = self.reserved.get(key, 0) + qty

    def release(self, store_id: str, item: int, qty: int) -> None:
        key = (store_id, item)
        left = self.reserved.get(key, 0) - qty
        if left > 0:
            self.reserved[key] = left
        else:
            self.reserved.pop(key, None)

    def consume(self, store_id: str, item: int, qty: int) -> None:
        """The held goods left the store (collected): on hand and reserved both go down."""
        self.release(store_id, item, qty)
        self.stock[store_id][item] -= qty

    def price(self, store_id: str, item: int) -> tuple[Decimal, Decimal, str]:
        """(base, current, markdown reason) of one item in one store."""
        base = self.items[item].base_price
        markdown = self.markdowns.get((store_id, item))
        if markdown is None:
            return base, base, ""
        return base, markdown.current, markdown.reason

    # ------------------------------------------------------------------ customers
    def allocate_customer_id(self) -> str:
        """The next free ``C0000123``-style customer id."""
        numbers = [int(c[1:]) for c in self.customers if c[:1] == "C" and c[1:].isdigit()]
        return f"C{max(numbers, default=0) + 1:07d}"

    # ------------------------------------------------------------------ documents
    def document_by_key(self, doc_type: str, stump: str, number: int) -> SimDocument | None:
        key = (doc_type, stump, number)
        return self.documents.get(key) or self.receipts.get(key)

    def customer_documents(self, customer_id: str) -> list[SimDocument]:
        """Every document (posted or from the sales history) of one customer."""
        docs = [*self.receipts.values(), *self.documents.values()]
        return [d for d in docs if d.customer_id == customer_id]

    def allocate_number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def add_document(self, doc: SimDocument) -> None:
        key = (doc.doc_type, doc.stump, doc.number)
        self.documents[key] = doc
        self._references.setdefault(doc.internal_reference, []).append(key)
        if doc.external_reference:
            self._references.setdefault(doc.external_reference, []).append(key)

    def find_documents(self, reference: str, doc_type: str = "") -> list[SimDocument]:
        """Documents whose internal or external reference is ``reference``."""
        keys = dict.fromkeys(self._references.get(reference, ()))
        docs = (self.documents[key] for key in keys)
        return [doc for doc in docs if doc_type in ("", doc.doc_type)]

    # ------------------------------------------------------------------ reset
    def mark_baseline(self) -> None:
        """Remember the current stock and points as what :meth:`reset` restores."""
        self._baseline = (
            {code: array("i", qty) for code, qty in self.stock.items()},
            {card_id: card.points for card_id, card in self.cards.items()},
            self.next_number,
            dict(self.customers),
        )

    def reset(self) -> None:
        """Back to the baseline: stock, points, customers, no documents, no faults, empty
        journal (the sales history stays)."""
        stock, points, number, customers = self._baseline
        self.stock = {code: array("i", qty) for code, qty in stock.items()}
        for card_id, value in points.items():
            self.cards[card_id].points = value
        self.next_number = number
        self.customers = dict(customers)
        self.reserved.clear()
        self.documents.clear()
        self._references.clear()
        self.faults.clear()
        self.journal.clear()
