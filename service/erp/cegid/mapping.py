"""Cegid replies (zeep objects) to port values. zeep objects never leave this module.

Item ids come back fixed-width and space-padded, sometimes with a trailing marker
(``'SKU123' + spaces + 'X'``): trimmed. Null dates come back as ``0001-01-01T00:00:00``: None.
Arrays are wrappers of typed items; a missing wrapper is an empty list. zeep returns the member
itself when a result type has a single member (``CreateResult`` -> its ``Key``; an ``ArrayOfX``
-> the list): ``_member`` and ``_list`` accept both forms, as a real tenant's WSDL may differ.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
    StockLine,
    StorePrice,
)

_MARKER = re.compile(r"\s+X$")


def trim_item_id(raw: Any) -> str:
    """'SKU123          X' -> 'SKU123'; 'SKU123   ' -> 'SKU123'."""
    return _MARKER.sub("", _str(raw)).strip()


_MISSING = object()


def _get(obj: Any, name: str) -> Any:
    return None if obj is None else getattr(obj, name, None)


def _member(result: Any, name: str) -> Any:
    """``result.name``, or ``result`` itself when zeep already unwrapped a one-member type."""
    if result is None or isinstance(result, list):
        return result
    value = getattr(result, name, _MISSING)
    return result if value is _MISSING else value


def _list(wrapper: Any, item: str) -> list[Any]:
    found = _member(wrapper, item)
    if found is None:
        return []
    return list(found) if isinstance(found, list | tuple) else [found]


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _int(value: Any) -> int:
    return int(_decimal(value))


def null_date(value: Any) -> date | None:
    """A date, or None for Cegid's null date (year 1) and missing values."""
    if isinstance(value, datetime):
        return None if value.year <= 1 else value.date()
    if isinstance(value, date):
        return None if value.year <= 1 else value
    return None


def text(result: Any) -> str:
    return _str(result)


# ------------------------------------------------------------------------------------ stock
def stock_lines(result: Any) -> tuple[list[StockLine], int]:
    """(lines, number of items in the page) of GetListItemInventoryDetailByStore."""
    rows = _list(_member(result, "InventoryDetailsByStore"), "AvailableQtyByItemByStore")
    lines = [
        StockLine(
            store_id=_str(_get(store, "StoreId")),
            sku=trim_item_id(_get(row, "ItemCode")),
            available=_int(_get(store, "AvailableQuantity")),
            store_name=_str(_get(store, "StoreName")),
        )
        for row in rows
        for store in _list(_get(row, "StoresAvailableQty"), "StoreAvailableQty")
    ]
    return lines, len(rows)


def available_qty(result: Any) -> int:
    status = _str(_get(result, "QueryStatus"))
    if result is None or status not in ("", "Ok"):
        raise ErpBusinessError(f"GetAvailableQty answered {status or 'nothing'}", code=status)
    return _int(_get(result, "AvailableQty"))


def stock_by_store(result: Any) -> dict[str, int]:
    rows = _list(result, "AvailableQtyByStore")
    return {_str(_get(r, "StoreId")): _int(_get(r, "AvailableQty")) for r in rows}


# ------------------------------------------------------------------------ items and prices
def item_page(result: Any, page_index: int, page_size: int) -> ItemPage:
    items = tuple(
        Item(
            sku=trim_item_id(_get(it, "Id")),
            barcode=_str(_get(it, "Barcode")),
            description=_str(_get(it, "Description")),
        )
        for it in _list(_get(result, "Items"), "Item")
    )
    count = _get(_get(result, "Pagination"), "Count")
    total = None if count is None else int(count)
    last = len(items) < page_size or (total is not None and page_index * page_size >= total)
    return ItemPage(items=items, page_index=page_index, last_page=last, total=total)


def store_prices(result: Any, store_id: str) -> list[StorePrice]:
    currency = _str(_get(result, "CurrencyId"))
    prices = []
    for price in _list(_get(result, "Prices"), "Price"):
        unit = _get(price, "UnitPrice")
        prices.append(
            StorePrice(
                store_id=store_id,
                barcode=_str(_get(price, "Barcode")),
                sku=trim_item_id(_get(price, "ItemId")),
                currency=currency,
                base=_decimal(_get(unit, "Base")),
                current=_decimal(_get(unit, "Current")),
                discount_percent=_decimal(_get(unit, "DiscountPercent")),
                markdown_reason=_str(_get(unit, "MarkdownReasonId")),
            )
        )
    return prices


# ---------------------------------------------------------------- customers and loyalty
def customer_ids(result: Any) -> list[str]:
    return [_str(_get(c, "CustomerId")) for c in _list(result, "CustomerQueryData")]


def customer(result: Any) -> Customer | None:
    if result is None or not _str(_get(result, "CustomerId")):
        return None
    return Customer(
        customer_id=_str(_get(result, "CustomerId")),
        first_name=_str(_get(result, "FirstName")),
        last_name=_str(_get(result, "LastName")),
        email=_str(_get(_get(result, "EmailData"), "Email")),
        phone=_str(_get(_get(result, "PhoneData"), "CellularPhoneNumber")),
        usual_store_id=_str(_get(result, "UsualStoreId")),
    )


def loyalty_cards(result: Any) -> list[LoyaltyCard]:
    cards = []
    for card in _list(result, "CardHeaderGet"):
        program = _get(card, "Program")
        cards.append(
            LoyaltyCard(
                card_id=_str(_get(card, "Id")),
                customer_id=_str(_get(card, "CustomerId")),
                program_id=_str(_get(program, "Id")),
                program_label=_str(_get(program, "Label")),
                active=bool(_get(card, "Active")) and not _get(card, "Closed"),
                available_points=_decimal(_get(card, "AvailableLoyaltyPoints")),
                expires_on=null_date(_get(card, "ExpiracyDate")),
                store_id=_str(_get(card, "StoreId")),
            )
        )
    return cards


def points(result: Any) -> Decimal:
    return _decimal(result)


# ------------------------------------------------------------------------ sale documents
def document_key(result: Any) -> DocumentKey:
    key = _member(result, "Key")
    if key is None or _get(key, "Number") is None:
        raise ErpProtocolError("create reply without a document key")
    number = int(_get(key, "Number"))
    return DocumentKey(number=number, stump=_str(_get(key, "Stump")), type=_str(_get(key, "Type")))


def _document_line(line: Any) -> DocumentLine:
    price = _get(line, "UnitPrice")
    return DocumentLine(
        sku=trim_item_id(_get(line, "ItemId")) or _str(_get(line, "ItemCode")),
        barcode=_str(_get(line, "ItemReference")),
        quantity=_int(_get(line, "Quantity")),
        unit_price=None if price is None else _decimal(price),
        label=_str(_get(line, "Label")),
    )


def document(reply: Any) -> DocumentInfo | None:
    """A Get_Reply, or None when the ERP answered nothing (not found)."""
    header = _get(reply, "Header")
    if header is None:
        return None
    omni = _get(header, "OmniChannel")
    active = _get(header, "Active")
    return DocumentInfo(
        key=document_key(header),
        internal_reference=_str(_get(header, "InternalReference")),
        store_id=_str(_get(header, "StoreId")),
        follow_up_status=_str(_get(omni, "FollowUpStatus")),
        cancel_status=_str(_get(omni, "CancelStatus")),
        active=True if active is None else bool(active),
        lines=tuple(_document_line(x) for x in _list(_get(reply, "Lines"), "Get_Line")),
    )


def documents(result: Any) -> list[DocumentInfo]:
    found = (document(r) for r in _list(_member(result, "Get_Replies"), "Get_Reply"))
    return [d for d in found if d is not None]
