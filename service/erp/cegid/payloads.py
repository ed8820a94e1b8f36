"""Request parameters of the Cegid operations, as plain dicts zeep serialises (in WSDL order).

Arrays are wrappers of typed items (``{"Lines": {"Create_Line": [...]}}``); ``None`` members
are left out. Dates go out as local ERP time without offset (``YYYY-MM-DDTHH:MM:SS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from service.erp.port import DocumentKey, DocumentLine, NewCustomer, PickupDocument

Params = dict[str, Any]


def erp_datetime(value: datetime | None, tz: ZoneInfo) -> datetime:
    """Naive local ERP time; naive input is taken as UTC; None is now."""
    moment = value or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


def strings(values: Sequence[str]) -> Params:
    return {"string": list(values)}


def inventory_request(
    page_index: int, page_size: int, store_ids: Sequence[str] | None, barcodes: Sequence[str] | None
) -> Params:
    request: Params = {
        "AllAvailableWarehouse": False,
        "DetailSku": False,
        "OnlyAvailableStock": False,
        "Pager": {"PageIndex": page_index, "PageSize": page_size},
        "WithStoreName": True,
    }
    if barcodes:
        request["ItemIdentifiers"] = {"ItemIdentifier": [{"Reference": b} for b in barcodes]}
    if store_ids:
        request["StoreIds"] = strings(store_ids)
    return {"inventoryStoreItemDetailRequest": request}


def item_identifier(barcode: str) -> Params:
    return {"Reference": barcode}


def _line(line: DocumentLine) -> Params:
    """A ``Create_Line`` or ``CustomersReservationCreate_Line`` (same members, in the same
    order, for those we send): the item by EAN (``Reference``) or by Cegid id."""
    ident = item_identifier(line.barcode) if line.barcode else {"Id": line.sku}
    return {
        "ItemIdentifier": ident,
        "Label": line.label or None,
        "NetUnitPrice": line.unit_price,
        "Quantity": line.quantity,
        "UnitPrice": line.unit_price,
    }


def _payment(doc: PickupDocument, method_id: str, when: datetime) -> Params | None:
    if not doc.paid or any(line.unit_price is None for line in doc.lines):
        return None
    amounts = ((line.unit_price or Decimal(0)) * line.quantity for line in doc.lines)
    amount = sum(amounts, Decimal(0))
    return {
        "Amount": amount,
        "CurrencyId": doc.currency,
        "DueDate": when,
        "Id": 1,
        "IsReceivedPayment": True,
        "MethodId": method_id,
    }


def pickup_request(doc: PickupDocument, tz: ZoneInfo, method_id: str) -> tuple[str, Params]:
    """(operation, parameters) creating ``doc``.

    - A click-and-collect order: ``Create`` of a ``CustomerOrder`` sold by the web store
      (``Header.StoreId``), ``Origin=ECommerce``, delivered in the pickup store
      (``OmniChannel{DeliveryStoreId, DeliveryType=PickingUpInStore}``), as integrators do it.
    - An e-reservation: ``CustomersReservationCreate``, whose public header has no
      ``OmniChannel``, ``Origin`` or ``Type`` (the operation makes a ``CustomersReservation``):
      the store that holds the goods is the header's ``StoreId``; ``ExpirationDate`` is the
      hold's deadline; lines are ``CustomersReservationCreate_Line``.
    """
    when = erp_datetime(doc.created_at, tz)
    lines = [_line(x) for x in doc.lines]
    header: Params = {
        "Active": True,
        "Comment": doc.comment or None,
        "CurrencyId": doc.currency,
        "CustomerId": doc.customer_id or None,
        "Date": when,
    }
    references: Params = {
        "ExternalReference": doc.external_reference or doc.reference,
        "ExternalReferenceDate": when,
        "InternalReference": doc.reference,
    }
    if doc.kind != "order":
        if doc.expires_at is not None:
            header["ExpirationDate"] = erp_datetime(doc.expires_at, tz)
        header |= references | {"StoreId": doc.store_id, "TaxExcluded": False}
        request: Params = {
            "Header": header,
            "Lines": {"CustomersReservationCreate_Line": lines},
        }
        return "CustomersReservationCreate", {"customersReservationCreateRequest": request}
    header |= references | {
        "OmniChannel": {
            "DeliveryStoreId": doc.store_id,
            "DeliveryType": "PickingUpInStore",
            "FollowUpStatus": "ToBeProcessed",
            "PaymentStatus": "Totally" if doc.paid else "Pending",
        },
        "Origin": "ECommerce",
        "StoreId": doc.web_store_id,
        "TaxExcluded": False,
        "Type": "CustomerOrder",
    }
    request = {"Header": header, "Lines": {"Create_Line": lines}}
    payment = _payment(doc, method_id, when)
    if payment is not None:
        request["Payments"] = {"Create_Payment": [payment]}
    return "Create", {"createRequest": request}


def document_type(doc: PickupDocument) -> str:
    return "CustomerOrder" if doc.kind == "order" else "CustomersReservation"


def by_reference(reference: str, doc_type: str = "", customer_id: str = "") -> Params:
    ref = {
        "CustomerId": customer_id or None,
        "InternalReference": reference,
        "Type": doc_type or None,
    }
    return {"searchRequest": {"Reference": ref}}


def by_external_reference(reference: str, doc_type: str = "") -> Params:
    return {"searchRequest": {"ExternalReference": reference, "Type": doc_type or None}}


def key_identifier(key: DocumentKey) -> Params:
    return {"Key": {"Number": key.number, "Stump": key.stump, "Type": key.type}}


def update_follow_up(key: DocumentKey, status: str) -> Params:
    request = {"Identifier": key_identifier(key), "OmniChannel": {"FollowUpStatus": status}}
    return {"updateHeaderRequest": request}


def cancel(key: DocumentKey, reason_id: str) -> Params:
    return {"cancelRequest": {"Identifier": key_identifier(key), "ReasonId": reason_id or None}}


def price_request(store_id: str, barcodes: Sequence[str], on: date | None) -> Params:
    when = datetime(on.year, on.month, on.day) if on else None
    request = {"Barcodes": strings(barcodes), "Date": when, "StoreId": store_id}
    return {"Request": {**request, "TaxExcluded": False}}


def items_request(page_index: int, page_size: int, ids: Sequence[str] = ()) -> Params:
    """Items ``GetListDetail``: ``Request{Ids?, Paging}`` (no ``Fields``: the identification and
    description come without them)."""
    request: Params = {"Paging": {"PageIndex": page_index, "PageSize": page_size}}
    if ids:
        request = {"Ids": strings(ids), **request}
    return {"Request": request}


def customer_search(email: str, limit: int) -> Params:
    return {"searchData": {"EmailData": {"Email": email}, "MaxNumberOfCustomers": limit}}


def points_update(
    card_id: str, program_id: str, points: Decimal, store_id: str, comment: str, when: datetime
) -> Params:
    request = {
        "Comment": comment or None,
        "Date": when,
        "LoyaltyCardId": card_id,
        "Points": points,
        "ProgramId": program_id or None,
        "StoreId": store_id or None,
    }
    return {"updatePointsRequest": request}


def _customer_data(new: NewCustomer, *, with_email: bool) -> Params:
    """``CustomerDataBase`` members omnistock knows (in contract order: base members first)."""
    data: Params = {}
    if with_email:
        data["EmailData"] = {"Email": new.email}
    data["FirstName"] = new.first_name or None
    data["LastName"] = new.last_name or None
    if new.phone:
        data["PhoneData"] = {"CellularPhoneNumber": new.phone}
    if with_email:
        data["UsualStoreId"] = new.usual_store_id or None
    return data


def customer_insert(new: NewCustomer) -> Params:
    """AddNewCustomer: ``customerData`` (``CustomerInsertData``): names, e-mail, mobile phone,
    usual store, a customer (not a prospect); ``CustomerId`` empty: the ERP numbers it."""
    data = _customer_data(new, with_email=True) | {"IsCompany": False, "IsProspect": False}
    return {"customerData": data}


def customer_update(customer_id: str, changes: NewCustomer) -> Params:
    """UpdateCustomer: ``customerId`` and ``modifiedData`` (``CustomerInputData``) holding the
    changed names and mobile phone only."""
    return {"customerId": customer_id, "modifiedData": _customer_data(changes, with_email=False)}


def header_list(
    customer_id: str,
    document_types: Sequence[str],
    begin: datetime | None,
    end: datetime | None,
    page_index: int,
    page_size: int,
) -> Params:
    """GetHeaderList: ``searchRequest{BeginDate?, CustomerId, DocumentTypes/SaleDocumentType,
    EndDate?, Pager}``."""
    request: Params = {
        "BeginDate": begin,
        "CustomerId": customer_id,
        "DocumentTypes": {"SaleDocumentType": list(document_types)} if document_types else None,
        "EndDate": end,
        "Pager": {"PageIndex": page_index, "PageSize": page_size},
    }
    return {"searchRequest": request}


def by_key(key: DocumentKey) -> Params:
    return {"searchRequest": key_identifier(key)}
