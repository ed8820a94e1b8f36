"""SaleDocumentService operations: Create, CustomersReservationCreate, GetByReference,
GetByExternalReference, GetHeaderList, GetByKey, UpdateHeader, Cancel."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.erp.simulator import saledocs
from service.erp.simulator.opcontext import VOID, Handler, OpContext, hello_world
from service.erp.simulator.state import SimDocument, SimLine, SimulatorState
from service.erp.simulator.xmlio import NIL, NULL_DATE, Node, SimFault


def _required(node: Node | None, name: str) -> Node:
    if node is None:
        raise SimFault(f"{name} is mandatory")
    child = node.child(name)
    if child is None:
        raise SimFault(f"{name} is mandatory")
    return child


def _line(state: SimulatorState, node: Node) -> SimLine:
    ident = _required(node, "ItemIdentifier")
    ref = ident.text("Id") or ident.text("Reference")
    item = state.find_item(ref)
    if item is None:
        raise SimFault(f"The item '{ref}' does not exist")
    quantity = node.decimal("Quantity") or Decimal(0)
    if quantity <= 0 or quantity != quantity.to_integral_value():
        raise SimFault(f"Invalid quantity {quantity} for item '{ref}'")
    label = node.text("Label") or state.items[item].description
    return SimLine(item, int(quantity), node.decimal("UnitPrice"), label)


def _document(ctx: OpContext, request: Node, doc_type: str, line_tag: str) -> SimDocument:
    """A ``Create_Request`` or ``CustomersReservationCreate_Request`` (whose header has no
    OmniChannel, Origin or Type: its store, ``StoreId``, holds the goods)."""
    header = _required(request, "Header")
    omni = header.child("OmniChannel") or Node.empty()
    lines = request.child("Lines")
    reservation = doc_type == "CustomersReservation"
    return SimDocument(
        doc_type=doc_type if reservation else header.text("Type") or doc_type,
        stump="",
        number=0,
        internal_reference=header.text("InternalReference"),
        external_reference=header.text("ExternalReference"),
        customer_id=header.text("CustomerId"),
        store_id=header.text("StoreId"),
        delivery_store_id=header.text("StoreId") if reservation else omni.text("DeliveryStoreId"),
        delivery_type="BookedInStore" if reservation else omni.text("DeliveryType"),
        lines=[_line(ctx.state, n) for n in lines.children(line_tag)] if lines else [],
        date=header.datetime("Date") or ctx.now,
        expiration=header.datetime("ExpirationDate"),
        currency=header.text("CurrencyId") or ctx.state.currency,
        comment=header.text("Comment"),
        follow_up_status=omni.text("FollowUpStatus") or "ToBeProcessed",
        payment_status=omni.text("PaymentStatus"),
        received_xml=ctx.raw_body,
    )


def _key(doc: SimDocument) -> dict[str, Any]:
    return {"Number": doc.number, "Stump": doc.stump, "Type": doc.doc_type}


def _create(ctx: OpContext, request: Node, param: str, doc_type: str, line_tag: str) -> Any:
    doc = _document(ctx, _required(request, param), doc_type, line_tag)
    if doc.doc_type != doc_type:
        raise SimFault(f"Document type {doc.doc_type} cannot be created by {ctx.operation}")
    saledocs.integrate(ctx.state, doc, already_integrated=ctx.inject_duplicate)
    return {"Key": _key(doc)}


def create(ctx: OpContext, request: Node) -> Any:
    return _create(ctx, request, "createRequest", "CustomerOrder", "Create_Line")


def reservation_create(ctx: OpContext, request: Node) -> Any:
    return _create(
        ctx,
        request,
        "customersReservationCreateRequest",
        "CustomersReservation",
        "CustomersReservationCreate_Line",
    )


def _status(doc: SimDocument) -> str:
    """The header's ``DocumentStatus``."""
    if doc.cancel_status == "Canceled":
        return "Canceled"
    if doc.doc_type == "Receipt":
        return "Delivered"
    return "Recovered" if doc.follow_up_status == "PickedUpInStore" else "InProgress"


VAT = Decimal("1.20")
_CENT = Decimal("0.01")


def _total(doc: SimDocument) -> Decimal:
    return sum(((line.unit_price or Decimal(0)) * line.quantity for line in doc.lines), Decimal(0))


def get_header(doc: SimDocument) -> dict[str, Any]:
    """A ``Get_Header``: key, store, date, customer and totals (tax included and excluded)."""
    omni = {
        "CancelDate": doc.cancel_date or NULL_DATE,
        "CancelReasonId": doc.cancel_reason or None,
        "CancelStatus": doc.cancel_status or None,
        "DeliveryStoreId": doc.delivery_store_id or None,
        "DeliveryType": doc.delivery_type or None,
        "FollowUpStatus": doc.follow_up_status or None,
        "PaymentStatus": doc.payment_status or None,
    }
    total = _total(doc)
    return {
        "Active": doc.active,
        "Comment": doc.comment or None,
        "CurrencyId": doc.currency,
        "CustomerId": doc.customer_id or None,
        "Date": doc.date or NULL_DATE,
        "InternalReference": doc.internal_reference,
        "Key": _key(doc),
        "OmniChannel": omni if doc.doc_type != "Receipt" else NIL,
        "Origin": doc.origin,
        "Status": _status(doc),
        "StoreId": doc.store_id,
        "TaxExcludedTotalAmount": (total / VAT).quantize(_CENT, ROUND_HALF_UP),
        "TaxIncludedTotalAmount": total,
        "TotalQuantity": sum(line.quantity for line in doc.lines),
    }


def get_reply(state: SimulatorState, doc: SimDocument) -> dict[str, Any]:
    """A ``Get_Reply`` (public shape: ``Get_Header`` has no ExternalReference; lines carry
    tax-included prices; receipts of the sales history carry their payment)."""
    lines = [
        {
            "ItemCode": state.items[line.item].sku,
            "ItemId": state.items[line.item].item_id,
            "ItemReference": state.items[line.item].ean,
            "Label": line.label,
            "Quantity": line.quantity,
            "Rank": rank,
            "TaxIncludedNetUnitPrice": line.unit_price,
            "TaxIncludedUnitPrice": line.unit_price,
        }
        for rank, line in enumerate(doc.lines, start=1)
    ]
    reply: dict[str, Any] = {"Header": get_header(doc), "Lines": {"Get_Line": lines}}
    if doc.payment_label:
        code, _, label = doc.payment_label.partition(":")
        payment = {
            "Amount": _total(doc),
            "Code": code,
            "Currency": doc.currency,
            "DueDate": doc.date or NULL_DATE,
            "IsReceivedPayment": True,
            "Label": label,
        }
        reply["Payments"] = {"Get_Payment": [payment]}
    return reply


MAX_PAGE_SIZE = 1000


def get_header_list(ctx: OpContext, request: Node) -> Any:
    """A customer's documents, newest first, one ``Pager`` page; ``CustomerId`` or ``StoreIds``
    is mandatory; dates are inclusive bounds of the document date."""
    search = _required(request, "searchRequest")
    customer = search.text("CustomerId")
    store_ids = set(search.strings("StoreIds"))
    if not customer and not store_ids:
        raise SimFault("At least one search criterion is mandatory (CustomerId, StoreIds)")
    wanted = search.child("DocumentTypes")
    types = (
        {(t.el.text or "").strip() for t in wanted.children("SaleDocumentType")}
        if wanted
        else set()
    )
    begin, end = search.datetime("BeginDate"), search.datetime("EndDate")
    pager = search.child("Pager") or Node.empty()
    index, size = pager.int("PageIndex", 1), pager.int("PageSize", 100)
    if index < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise SimFault(f"Invalid pager: PageIndex {index}, PageSize {size} (1..{MAX_PAGE_SIZE})")
    active = search.child("Active")
    if customer:
        docs = ctx.state.customer_documents(customer)
    else:
        docs = [*ctx.state.receipts.values(), *ctx.state.documents.values()]
    found = [
        d
        for d in docs
        if (not types or d.doc_type in types)
        and (not store_ids or d.store_id in store_ids)
        and (begin is None or (d.date is not None and d.date >= begin))
        and (end is None or (d.date is not None and d.date <= end))
        and (active is None or d.active == search.bool("Active"))
    ]
    found.sort(key=lambda d: (d.date or NULL_DATE, d.number), reverse=True)
    page = found[(index - 1) * size : index * size]
    return {"Headers": {"Get_Header": [get_header(d) for d in page]}}


def get_by_key(ctx: OpContext, request: Node) -> Any:
    key = _required(_required(request, "searchRequest"), "Key")
    found = ctx.state.document_by_key(key.text("Type"), key.text("Stump"), key.int("Number"))
    if found is None:
        raise SimFault("Failed to identify document (TECommerceServicePS.GetDocument)")
    return get_reply(ctx.state, found)


def get_by_reference(ctx: OpContext, request: Node) -> Any:
    reference = _required(_required(request, "searchRequest"), "Reference")
    internal = reference.text("InternalReference")
    customer = reference.text("CustomerId")
    for doc in ctx.state.find_documents(internal, reference.text("Type")):
        if doc.internal_reference == internal and customer in ("", doc.customer_id):
            return get_reply(ctx.state, doc)
    return NIL


def get_by_external_reference(ctx: OpContext, request: Node) -> Any:
    search = _required(request, "searchRequest")
    external = search.text("ExternalReference")
    docs = ctx.state.find_documents(external, search.text("Type"))
    replies = [get_reply(ctx.state, d) for d in docs if d.external_reference == external]
    return {"Get_Replies": {"Get_Reply": replies}}


def _identified(state: SimulatorState, identifier: Node) -> SimDocument:
    key = identifier.child("Key")
    if key is not None:
        found = state.documents.get((key.text("Type"), key.text("Stump"), key.int("Number")))
    else:
        ref = _required(identifier, "Reference")
        internal = ref.text("InternalReference")
        docs = state.find_documents(internal, ref.text("Type"))
        found = next((d for d in docs if d.internal_reference == internal), None)
    if found is None:
        raise SimFault("Failed to identify document (TECommerceServicePS.CheckCancelOrder)")
    return found


def update_header(ctx: OpContext, request: Node) -> Any:
    update = _required(request, "updateHeaderRequest")
    doc = _identified(ctx.state, _required(update, "Identifier"))
    omni = update.child("OmniChannel")
    if omni is not None and omni.text("FollowUpStatus"):
        saledocs.set_follow_up(ctx.state, doc, omni.text("FollowUpStatus"))
    if omni is not None and omni.text("PaymentStatus"):
        doc.payment_status = omni.text("PaymentStatus")
    if update.text("Comment"):
        doc.comment = update.text("Comment")
    return VOID


def cancel(ctx: OpContext, request: Node) -> Any:
    cancel_request = _required(request, "cancelRequest")
    doc = _identified(ctx.state, _required(cancel_request, "Identifier"))
    saledocs.cancel(ctx.state, doc, cancel_request.text("ReasonId"), ctx.now)
    return VOID


HANDLERS: dict[str, Handler] = {
    "HelloWorld": hello_world,
    "Create": create,
    "CustomersReservationCreate": reservation_create,
    "GetByReference": get_by_reference,
    "GetByExternalReference": get_by_external_reference,
    "GetHeaderList": get_header_list,
    "GetByKey": get_by_key,
    "UpdateHeader": update_header,
    "Cancel": cancel,
}
