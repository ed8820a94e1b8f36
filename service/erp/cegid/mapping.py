"""Cegid replies to port values, read by element name (``xmlread.El``); XML never leaves here.

Each reader takes the operation's ``Result`` element (None when the ERP answered none) and reads
the members it needs by name, in whatever order they come, among members it does not know,
missing ones or ``i:nil`` ones (see ``xmlread``). The shapes are the public ones of
``service/erp/wsdl/contract.txt``; docs/cegid-contract.md lists what each operation reads.

Item ids come back fixed-width and space-padded, sometimes with a trailing marker
(``'SKU123' + spaces + 'X'``): trimmed. Null dates come back as ``0001-01-01T00:00:00``: None.
A number that is not one raises ``ErpProtocolError``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from service.erp.cegid.xmlread import El
from service.erp.port import (
    Customer,
    DocumentInfo,
    DocumentKey,
    DocumentLine,
    ErpBusinessError,
    ErpProtocolError,
    Item,
    ItemPage,
    LoyaltyCard,
    SaleDocument,
    SaleHeader,
    SaleLine,
    SalePayment,
    StorePrice,
)

_MARKER = re.compile(r"\s+X$")


def trim_item_id(raw: object) -> str:
    """'SKU123          X' -> 'SKU123'; 'SKU123   ' -> 'SKU123'."""
    return _MARKER.sub("", "" if raw is None else str(raw).strip()).strip()


def decimal(text: str, what: str = "number") -> Decimal:
    """An ``xs:decimal`` member; '' (missing, nil, omitted default) is 0."""
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ErpProtocolError(f"unexpected reply shape: {what} {text!r}") from exc
    if not value.is_finite():
        raise ErpProtocolError(f"unexpected reply shape: {what} {text!r}")
    return value


def integer(text: str, what: str = "number") -> int:
    return int(decimal(text, what))


def boolean(text: str, default: bool = False) -> bool:
    return text in ("true", "1") if text else default


def null_date(value: object) -> date | None:
    """A date, or None for Cegid's null date (year 1), missing and unreadable values."""
    if isinstance(value, str):
        if not value:
            return None
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return None if value.year <= 1 else value.date()
    if isinstance(value, date):
        return None if value.year <= 1 else value
    return None


def erp_moment(value: str, tz: ZoneInfo) -> datetime | None:
    """An ``xs:dateTime`` of the ERP (local time without offset, taken in ``tz``) as an aware
    UTC moment, as every omnistock answer gives times; None for missing, unreadable and Cegid's
    null date (year 1)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.year <= 1:
        return None
    local = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    return local.astimezone(UTC)


def text(result: El | None) -> str:
    return "" if result is None else result.value


# ------------------------------------------------------------------------------------ stock
def available_qty(result: El | None) -> int:
    """GetAvailableQty: ``AvailableQtyReturn{AvailableQty, QueryStatus}``."""
    status = result.text("QueryStatus") if result is not None else ""
    if result is None or status not in ("", "Ok"):
        raise ErpBusinessError(f"GetAvailableQty answered {status or 'nothing'}", code=status)
    return integer(result.text("AvailableQty"), "AvailableQty")


# ------------------------------------------------------------------------ items and prices
def item_page(result: El | None, page_index: int, page_size: int) -> ItemPage:
    """Items ``GetListDetail``: ``MerchandiseItems/MerchandiseItem{Identification/Identifier/
    {Id, Barcode}, Description}``; ``Pagination/Count`` is this page's count (the public client
    stops on a page shorter than PageSize)."""
    rows = [] if result is None else result.items("MerchandiseItems", "MerchandiseItem")
    items = tuple(
        Item(
            sku=trim_item_id(row.text("Identification", "Identifier", "Id")),
            barcode=row.text("Identification", "Identifier", "Barcode"),
            description=row.text("Description"),
        )
        for row in rows
    )
    count_text = result.text("Pagination", "Count") if result is not None else ""
    count = integer(count_text, "Pagination.Count") if count_text else len(rows)
    last = min(count, len(rows)) < page_size
    return ItemPage(items=items, page_index=page_index, last_page=last)


def store_prices(result: El | None, store_id: str) -> list[StorePrice]:
    """Price engine ``GetListDetail``: ``CurrencyId``, ``Prices/Price{Barcode, ItemId,
    UnitPrice{Base, Current, DiscountPercent, MarkdownReasonId}}``."""
    if result is None:
        return []
    currency = result.text("CurrencyId")
    prices = []
    for price in result.items("Prices", "Price"):
        unit = price.child("UnitPrice")

        def amount(name: str, unit: El | None = unit) -> Decimal:
            return decimal(unit.text(name), name) if unit is not None else Decimal(0)

        prices.append(
            StorePrice(
                store_id=store_id,
                barcode=price.text("Barcode"),
                sku=trim_item_id(price.text("ItemId")),
                currency=currency,
                base=amount("Base"),
                current=amount("Current"),
                discount_percent=amount("DiscountPercent"),
                markdown_reason=unit.text("MarkdownReasonId") if unit is not None else "",
            )
        )
    return prices


# ---------------------------------------------------------------- customers and loyalty
def customer_ids(result: El | None) -> list[str]:
    """SearchCustomerIds: ``ArrayOfCustomerQueryData``; ``CustomerId`` is a member of the
    derived ``CustomerQueryData``, after every ``CustomerDataBase``/``CustomerData`` member."""
    if result is None:
        return []
    found = (row.text("CustomerId") for row in result.children("CustomerQueryData"))
    return list(dict.fromkeys(c for c in found if c))


def customers(result: El | None, tz: ZoneInfo) -> list[Customer]:
    """SearchCustomerIds with the details of each ``CustomerQueryData`` (first of an id)."""
    if result is None:
        return []
    found: dict[str, Customer] = {}
    for row in result.children("CustomerQueryData"):
        one = customer(row, tz)
        if one is not None:
            found.setdefault(one.customer_id, one)
    return list(found.values())


def customer(result: El | None, tz: ZoneInfo | None = None) -> Customer | None:
    """GetCustomerDetail: ``CustomerQueryData`` (None when empty)."""
    if result is None or not result.text("CustomerId"):
        return None
    changed = result.text("LastDateUpdate") or result.text("LastModificationDate")
    return Customer(
        updated_at=erp_moment(changed, tz) if tz is not None else None,
        customer_id=result.text("CustomerId"),
        first_name=result.text("FirstName"),
        last_name=result.text("LastName"),
        email=result.text("EmailData", "Email"),
        phone=result.text("PhoneData", "CellularPhoneNumber"),
        usual_store_id=result.text("UsualStoreId"),
    )


def loyalty_cards(result: El | None) -> list[LoyaltyCard]:
    """GetCustomerCards: ``ArrayOfCardHeaderGet`` of ``CardHeaderGet{..., Program{Id, Label}}``."""
    if result is None:
        return []
    cards = []
    for card in result.children("CardHeaderGet"):
        cards.append(
            LoyaltyCard(
                card_id=card.text("Id"),
                customer_id=card.text("CustomerId"),
                program_id=card.text("Program", "Id"),
                program_label=card.text("Program", "Label"),
                active=boolean(card.text("Active")) and not boolean(card.text("Closed")),
                available_points=decimal(card.text("AvailableLoyaltyPoints"), "points"),
                expires_on=null_date(card.text("ExpiracyDate")),
                store_id=card.text("StoreId"),
            )
        )
    return cards


def points(result: El | None) -> Decimal:
    return decimal(text(result), "points")


# ------------------------------------------------------------------------ sale documents
def document_key(result: El | None) -> DocumentKey:
    """``SaleDocumentKey{Number, Stump, Type}``, or a reply/header holding it as ``Key``."""
    key = None if result is None else (result.child("Key") or result)
    number = key.text("Number") if key is not None else ""
    if key is None or not number:
        raise ErpProtocolError("reply without a document key")
    return DocumentKey(
        number=integer(number, "Key.Number"),
        stump=key.text("Stump") or key.text("Stub"),  # newer contracts spell it Stub
        type=key.text("Type"),
    )


def _document_line(line: El) -> DocumentLine:
    price = line.text("TaxIncludedNetUnitPrice") or line.text("TaxIncludedUnitPrice")
    return DocumentLine(
        sku=trim_item_id(line.text("ItemId")) or line.text("ItemCode"),
        barcode=line.text("ItemReference"),
        quantity=integer(line.text("Quantity"), "Quantity"),
        unit_price=decimal(price, "unit price") if price else None,
        label=line.text("Label"),
    )


def document(reply: El | None) -> DocumentInfo | None:
    """A ``Get_Reply{DeliveryAddress, Header, InvoicingAddress, Lines, Payments, ...}``, or None
    when the ERP answered nothing (not found)."""
    header = None if reply is None else reply.child("Header")
    if reply is None or header is None or header.child("Key") is None:
        return None
    status = header.text("Status")
    cancel_status = header.text("OmniChannel", "CancelStatus")
    return DocumentInfo(
        key=document_key(header),
        internal_reference=header.text("InternalReference"),
        store_id=header.text("StoreId"),
        follow_up_status=header.text("OmniChannel", "FollowUpStatus"),
        cancel_status="Canceled" if status == "Canceled" and not cancel_status else cancel_status,
        active=boolean(header.text("Active")),  # .NET default when omitted: false
        lines=tuple(_document_line(x) for x in reply.items("Lines", "Get_Line")),
    )


def documents(result: El | None) -> list[DocumentInfo]:
    """GetByExternalReference: ``Get_Replies/Get_Reply*``."""
    if result is None:
        return []
    found = (document(r) for r in result.items("Get_Replies", "Get_Reply"))
    return [d for d in found if d is not None]


# ---------------------------------------------------------------- a customer's documents
def _price(line: El, name: str) -> Decimal | None:
    value = line.text(name)
    return decimal(value, name) if value else None


def sale_header(header: El, tz: ZoneInfo) -> SaleHeader:
    """A ``Get_Header``: its key, store, date, customer, currency and totals."""
    return SaleHeader(
        key=document_key(header),
        store_id=header.text("StoreId"),
        date=erp_moment(header.text("Date"), tz),
        customer_id=header.text("CustomerId"),
        currency=header.text("CurrencyId"),
        total_incl_tax=decimal(header.text("TaxIncludedTotalAmount"), "TaxIncludedTotalAmount"),
        total_excl_tax=decimal(header.text("TaxExcludedTotalAmount"), "TaxExcludedTotalAmount"),
        total_quantity=decimal(header.text("TotalQuantity"), "TotalQuantity"),
        internal_reference=header.text("InternalReference"),
        origin=header.text("Origin"),
        status=header.text("Status"),
        active=boolean(header.text("Active")),  # .NET default when omitted: false
    )


def sale_headers(result: El | None, tz: ZoneInfo) -> list[SaleHeader]:
    """GetHeaderList: ``GetHeaderList_Reply{Headers/Get_Header*}``."""
    if result is None:
        return []
    return [sale_header(h, tz) for h in result.items("Headers", "Get_Header") if h.child("Key")]


def sale_document(reply: El | None, tz: ZoneInfo) -> SaleDocument | None:
    """GetByKey: a ``Get_Reply{Header, Lines/Get_Line*, Payments/Get_Payment*}``; None when the
    ERP answered nothing."""
    header = None if reply is None else reply.child("Header")
    if reply is None or header is None or header.child("Key") is None:
        return None
    lines = tuple(
        SaleLine(
            rank=integer(line.text("Rank"), "Rank") or n,
            sku=trim_item_id(line.text("ItemId")),
            item_code=line.text("ItemCode"),
            barcode=line.text("ItemReference"),
            label=line.text("Label"),
            quantity=decimal(line.text("Quantity"), "Quantity"),
            unit_price=_price(line, "TaxIncludedUnitPrice"),
            net_unit_price=_price(line, "TaxIncludedNetUnitPrice"),
        )
        for n, line in enumerate(reply.items("Lines", "Get_Line"), start=1)
    )
    payments = tuple(
        SalePayment(
            label=p.text("Label"),
            code=p.text("Code"),
            amount=decimal(p.text("Amount"), "Amount"),
            currency=p.text("Currency"),
        )
        for p in reply.items("Payments", "Get_Payment")
    )
    return SaleDocument(sale_header(header, tz), lines, payments)
