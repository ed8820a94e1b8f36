"""The ERP port: what omnistock needs from an ERP, in omnistock's own words.

Adapters (``service.erp.cegid``) map these calls onto Cegid Retail Y2 SOAP services. Nothing in
here knows about SOAP, zeep or XML. All values are plain frozen dataclasses, except the one a
full stock pass makes a million of (``StockLine``): an immutable named tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NamedTuple, Protocol


# --------------------------------------------------------------------------- errors
class ErpError(Exception):
    """Base class of every error an ERP adapter raises."""


class ErpUnavailable(ErpError):
    """Transport failure, timeout, HTTP 5xx, open circuit: worth retrying later."""


class ErpNotSent(ErpUnavailable):
    """The ERP surely did not process the request (not sent, refused, open circuit): sending it
    again is safe even for an operation that is not idempotent."""


class ErpAuthError(ErpError):
    """The ERP refused our credentials (HTTP 401/403)."""


class ErpBusinessError(ErpError):
    """A SOAP fault the ERP raised on purpose (bad data, unknown item...): permanent.

    ``code`` is the fault code (e.g. ``CBR_001_0003``), ``message`` the innermost message of the
    ``CbpExceptionDetail`` chain, ``tracking_id`` the ERP's tracking GUID when given.
    """

    def __init__(self, message: str, *, code: str = "", tracking_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.tracking_id = tracking_id


class ErpProtocolError(ErpError):
    """The reply could not be understood (malformed XML, forbidden DTD/entity, wrong shape)."""


# --------------------------------------------------------------------------- values
class StockLine(NamedTuple):
    """Available quantity of one SKU in one store, as the ERP reports it.

    A named tuple, not a frozen dataclass: a full pass builds one per (store, SKU), and a tuple
    is built about 4 times faster (by ``tuple.__new__`` straight from a zipped row, see
    ``cegid.readers``), and its first three fields are the record a COPY sends
    (``stores.stock``), sliced off in C.
    """

    store_id: str
    sku: str  # trimmed Cegid item id (the sellable variant)
    available: int
    store_name: str = ""


@dataclass(frozen=True, slots=True)
class StockPage:
    lines: tuple[StockLine, ...]
    page_index: int  # 1-based
    last_page: bool


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    barcode: str  # EAN-13 (may be empty when the ERP has none)
    description: str = ""


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: tuple[Item, ...]
    page_index: int
    last_page: bool


@dataclass(frozen=True, slots=True)
class StorePrice:
    """Price of one barcode in one store: ``current < base`` means a markdown."""

    store_id: str
    barcode: str
    sku: str
    currency: str
    base: Decimal
    current: Decimal
    discount_percent: Decimal
    markdown_reason: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    usual_store_id: str = ""
    updated_at: datetime | None = None  # LastDateUpdate (else LastModificationDate), ERP time


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A shopper as omnistock creates (AddNewCustomer) or updates (UpdateCustomer) them."""

    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    usual_store_id: str = ""


@dataclass(frozen=True, slots=True)
class LoyaltyCard:
    card_id: str
    customer_id: str
    program_id: str
    program_label: str
    active: bool
    available_points: Decimal
    expires_on: date | None = None
    store_id: str = ""


@dataclass(frozen=True, slots=True)
class DocumentLine:
    sku: str
    barcode: str
    quantity: int
    unit_price: Decimal | None = None
    label: str = ""


PickupKind = Literal["reservation", "order"]


@dataclass(frozen=True, slots=True)
class PickupDocument:
    """A click-and-collect order or an e-reservation, as omnistock posts it to the ERP.

    ``reference`` is omnistock's pickup id: it becomes the document's InternalReference (and
    ExternalReference), which is what makes a re-post detectable (CBR00009) and findable.
    """

    kind: PickupKind
    reference: str
    store_id: str  # pickup store (DeliveryStoreId)
    web_store_id: str  # the e-commerce store that sells (Header.StoreId for orders)
    customer_id: str
    lines: tuple[DocumentLine, ...]
    currency: str = "EUR"
    created_at: datetime | None = None
    expires_at: datetime | None = None  # reservation ExpirationDate
    external_reference: str = ""  # PrestaShop order reference for orders
    paid: bool = False
    comment: str = ""


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """Cegid SaleDocumentKey."""

    number: int
    stump: str
    type: str

    def __str__(self) -> str:
        return f"{self.type}:{self.stump}:{self.number}"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    key: DocumentKey
    internal_reference: str
    store_id: str
    follow_up_status: str = ""
    cancel_status: str = ""
    active: bool = True
    lines: tuple[DocumentLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CreateResult:
    key: DocumentKey
    already_existed: bool  # True when the ERP answered CBR00009 and we looked the document up


@dataclass(frozen=True, slots=True)
class SaleHeader:
    """One sale document of a customer (GetHeaderList's ``Get_Header``): a receipt, an order."""

    key: DocumentKey
    store_id: str
    date: datetime | None  # aware (the ERP's local time zone)
    customer_id: str
    currency: str
    total_incl_tax: Decimal
    total_excl_tax: Decimal
    total_quantity: Decimal
    internal_reference: str = ""
    origin: str = ""
    status: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class SaleLine:
    rank: int
    sku: str  # trimmed Cegid item id
    item_code: str
    barcode: str
    label: str
    quantity: Decimal
    unit_price: Decimal | None  # tax included, before discount
    net_unit_price: Decimal | None  # tax included, after discount


@dataclass(frozen=True, slots=True)
class SalePayment:
    label: str
    code: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class SaleDocument:
    """One sale document with its lines (GetByKey's ``Get_Reply``)."""

    header: SaleHeader
    lines: tuple[SaleLine, ...]
    payments: tuple[SalePayment, ...] = ()


# Follow-up statuses omnistock sets on a document (Cegid OmniChannel.FollowUpStatus values).
FollowUpStatus = Literal[
    "ToBeProcessed", "Validated", "BookedInStore", "AvailableInStore", "PickedUpInStore", "Closed"
]


# --------------------------------------------------------------------------- the port
class ErpPort(Protocol):
    """Everything omnistock asks of the ERP. Every method may raise an ``ErpError``."""

    async def hello(self, text: str = "omnistock") -> str: ...

    # stock
    async def stock_page(
        self,
        page_index: int,
        page_size: int,
        *,
        store_ids: Sequence[str] | None = None,
        barcodes: Sequence[str] | None = None,
    ) -> StockPage:
        """One page of per-store available stock (all items, or only ``barcodes``)."""
        ...

    async def stock_for_items(
        self, barcodes: Sequence[str], store_ids: Sequence[str] | None = None
    ) -> list[StockLine]:
        """Current stock of the given items (EANs) in the given stores (all when None)."""
        ...

    async def available_qty(self, barcode: str, store_id: str) -> int: ...

    # reference data
    async def items_page(self, page_index: int, page_size: int) -> ItemPage: ...

    async def items_by_ids(self, ids: Sequence[str]) -> list[Item]:
        """The items of these Cegid item ids (SKUs), those the ERP knows; any number of ids."""
        ...

    async def store_prices(
        self, store_id: str, barcodes: Sequence[str], on: date | None = None
    ) -> list[StorePrice]: ...

    # customers and loyalty
    async def find_customers_by_email(self, email: str, limit: int = 5) -> list[str]: ...

    async def customer(self, customer_id: str) -> Customer | None: ...

    async def search_customers(self, email: str, limit: int = 5) -> list[Customer]:
        """The customers whose e-mail is ``email`` (SearchCustomerIds), with their details."""
        ...

    async def add_customer(self, new: NewCustomer) -> str:
        """Create the customer (AddNewCustomer); its new ERP id. Not idempotent."""
        ...

    async def update_customer(self, customer_id: str, changes: NewCustomer) -> None:
        """Send changed names and phone (UpdateCustomer)."""
        ...

    async def customer_id_by_reference(self, reference: str) -> str:
        """GetCustomerIdByReference: the customer id of a reference ('' when unknown)."""
        ...

    async def loyalty_cards(self, customer_id: str) -> list[LoyaltyCard]: ...

    async def customer_points(self, customer_id: str) -> Decimal: ...

    async def update_points(
        self,
        card_id: str,
        program_id: str,
        points: Decimal,
        *,
        store_id: str,
        comment: str,
        when: datetime,
    ) -> None: ...

    # sale documents
    async def create_pickup_document(self, doc: PickupDocument) -> CreateResult:
        """Create the order/reservation; an already-existing reference is looked up, not an
        error (``CreateResult.already_existed``)."""
        ...

    async def find_document(self, reference: str) -> DocumentInfo | None: ...

    async def sale_headers(
        self,
        customer_id: str,
        *,
        document_types: Sequence[str],
        begin: datetime | None,
        end: datetime | None,
        page_index: int,
        page_size: int,
    ) -> list[SaleHeader]:
        """One page (1-based) of a customer's sale documents (GetHeaderList)."""
        ...

    async def sale_document(self, key: DocumentKey) -> SaleDocument | None:
        """One sale document with its lines (GetByKey); None when the ERP knows no such key."""
        ...

    async def set_follow_up_status(self, key: DocumentKey, status: FollowUpStatus) -> None: ...

    async def cancel_document(self, key: DocumentKey, reason_id: str = "") -> None: ...

    async def aclose(self) -> None: ...
