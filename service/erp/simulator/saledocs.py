"""Sale document lifecycle in the simulated ERP: integration, stock holds, follow-up, cancel.

Stock: a click-and-collect order (``CustomerOrder`` delivered ``PickingUpInStore`` or
``BookedInStore`` at ``DeliveryStoreId``) and an e-reservation (``CustomersReservation``) hold
their lines in the delivery store: its available quantity drops at once. ``Cancel`` (or closing
before pick-up) releases the hold; ``FollowUpStatus=PickedUpInStore`` consumes it (the goods left
the store: on hand drops, available stays as it was).
"""

from __future__ import annotations

from datetime import datetime

from service.erp.simulator.state import SimDocument, SimulatorState
from service.erp.simulator.xmlio import SimFault

DUPLICATE_MESSAGE = "CBR00009 : This document already exists and cannot be re-integrated"
STUMPS = {"CustomerOrder": "WEB1", "CustomersReservation": "RES1"}
HOLDING_DELIVERY_TYPES = frozenset({"PickingUpInStore", "BookedInStore"})


def _holding_store(doc: SimDocument) -> str:
    if doc.doc_type == "CustomersReservation":
        return doc.delivery_store_id or doc.store_id
    if doc.doc_type == "CustomerOrder" and doc.delivery_type in HOLDING_DELIVERY_TYPES:
        return doc.delivery_store_id
    return ""


def _check(state: SimulatorState, doc: SimDocument) -> None:
    if not doc.internal_reference:
        raise SimFault("The internal reference of the document is mandatory")
    if not state.is_selling_store(doc.store_id):
        raise SimFault(f"The store '{doc.store_id}' does not exist")
    if doc.delivery_store_id and doc.delivery_store_id not in state.stores:
        raise SimFault(f"The delivery store '{doc.delivery_store_id}' does not exist")
    pickup = doc.doc_type == "CustomerOrder" and doc.delivery_type in HOLDING_DELIVERY_TYPES
    if pickup and not doc.delivery_store_id:
        raise SimFault("DeliveryStoreId is mandatory for a pick-up in store")
    if doc.customer_id and doc.customer_id not in state.customers:
        raise SimFault(f"The customer '{doc.customer_id}' does not exist")
    if not doc.lines:
        raise SimFault("A document must have at least one line")


def integrate(state: SimulatorState, doc: SimDocument, *, already_integrated: bool) -> SimDocument:
    """Store a new document (holding its stock) or fail with CBR00009 when it exists.

    ``already_integrated`` (fault injection) stores the document and still answers CBR00009, as
    when an earlier attempt succeeded but its answer was lost.
    """
    existing = [
        d
        for d in state.find_documents(doc.internal_reference, doc.doc_type)
        if d.internal_reference == doc.internal_reference
    ]
    if existing:
        raise SimFault(DUPLICATE_MESSAGE)
    _check(state, doc)
    doc.stump = STUMPS.get(doc.doc_type, "DOC1")
    doc.number = state.allocate_number()
    store = _holding_store(doc)
    if store:
        for line in doc.lines:
            state.hold(store, line.item, line.quantity)
        doc.holds_stock = True
    state.add_document(doc)
    if already_integrated:
        raise SimFault(DUPLICATE_MESSAGE)
    return doc


def _release(state: SimulatorState, doc: SimDocument, *, consume: bool) -> None:
    if not doc.holds_stock:
        return
    store = _holding_store(doc)
    for line in doc.lines:
        if consume:
            state.consume(store, line.item, line.quantity)
        else:
            state.release(store, line.item, line.quantity)
    doc.holds_stock = False


def set_follow_up(state: SimulatorState, doc: SimDocument, status: str) -> None:
    if doc.cancel_status == "Canceled":
        raise SimFault("The document is canceled and cannot be modified")
    if status == "PickedUpInStore":
        _release(state, doc, consume=True)
    elif status == "Closed":
        _release(state, doc, consume=False)
        doc.active = False
    doc.follow_up_status = status


ALREADY_CANCELLED = (
    "Order cancelled. No processing authorised (TCbrECommerceHelper.CheckAnnulePieceEco)"
)


def cancel(state: SimulatorState, doc: SimDocument, reason: str, when: datetime) -> None:
    """Cancel and release the stock hold; a second Cancel is refused as Cegid refuses it."""
    if doc.cancel_status == "Canceled":
        raise SimFault(ALREADY_CANCELLED)
    if doc.follow_up_status in ("PickedUpInStore", "Closed"):
        raise SimFault("The document is closed and cannot be canceled")
    _release(state, doc, consume=False)
    doc.cancel_status = "Canceled"
    doc.cancel_reason = reason
    doc.cancel_date = when
    doc.active = False
