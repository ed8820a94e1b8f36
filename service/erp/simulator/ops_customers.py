"""CustomerWcfService (SearchCustomerIds, GetCustomerDetail, GetCustomerIdByReference,
AddNewCustomer, UpdateCustomer) and LoyaltyWcfService (GetCustomerCards,
GetCustomerAvailableLoyaltyPoints, UpdatePoints) operations."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from service.erp.simulator.opcontext import VOID, Handler, OpContext, hello_world
from service.erp.simulator.state import CardRecord, CustomerRecord
from service.erp.simulator.xmlio import NULL_DATE, Node, SimFault


def search_customer_ids(ctx: OpContext, request: Node) -> Any:
    search = request.child("searchData") or Node.empty()
    email_data, phone_data = search.child("EmailData"), search.child("PhoneData")
    email = email_data.text("Email").lower() if email_data else ""
    phone = phone_data.text("CellularPhoneNumber") if phone_data else ""
    if not email and not phone:
        raise SimFault("At least one search criterion is mandatory")
    limit = search.int("MaxNumberOfCustomers", 10)
    found = [
        _customer(c)
        for c in ctx.state.customers.values()
        if (not email or c.email.lower() == email) and (not phone or c.phone == phone)
    ]
    return {"CustomerQueryData": found[:limit]}


def customer_detail(ctx: OpContext, request: Node) -> Any:
    customer = ctx.state.customers.get(request.text("customerId"))
    if customer is None:
        raise SimFault(f"The customer '{request.text('customerId')}' does not exist")
    return _customer(customer)


def customer_id_by_reference(ctx: OpContext, request: Node) -> Any:
    """A customer id, or a loyalty card number, names its customer."""
    reference = request.text("customerReference")
    if reference in ctx.state.customers:
        return reference
    card = ctx.state.cards.get(reference)
    if card is None:
        raise SimFault(f"The customer '{reference}' does not exist")
    return card.customer_id


def _details(data: Node) -> dict[str, str]:
    """The ``CustomerDataBase`` members the simulator keeps, those present in ``data``."""
    found: dict[str, str] = {}
    for name, member in (("first_name", "FirstName"), ("last_name", "LastName")):
        if data.child(member) is not None:
            found[name] = data.text(member)
    phone = data.child("PhoneData")
    if phone is not None and phone.child("CellularPhoneNumber") is not None:
        found["phone"] = phone.text("CellularPhoneNumber")
    email = data.child("EmailData")
    if email is not None and email.child("Email") is not None:
        found["email"] = email.text("Email")
    if data.child("UsualStoreId") is not None:
        found["usual_store_id"] = data.text("UsualStoreId")
    return found


def _check_details(ctx: OpContext, details: dict[str, str]) -> None:
    store = details.get("usual_store_id", "")
    if store and store not in ctx.state.stores:
        raise SimFault(f"The store '{store}' does not exist")
    if "@" not in details.get("email", "@"):
        raise SimFault(f"The e-mail '{details['email']}' is not valid")


def add_new_customer(ctx: OpContext, request: Node) -> Any:
    """``customerData`` (``CustomerInsertData``): a last or first name is mandatory; the id is
    given or numbered; answers the new customer id."""
    data = request.child("customerData")
    if data is None:
        raise SimFault("customerData is mandatory")
    details = _details(data)
    if not details.get("last_name") and not details.get("first_name"):
        raise SimFault("The last name of the customer is mandatory")
    _check_details(ctx, details)
    customer_id = data.text("CustomerId") or ctx.state.allocate_customer_id()
    if customer_id in ctx.state.customers:
        raise SimFault(f"The customer '{customer_id}' already exists")
    ctx.state.customers[customer_id] = CustomerRecord(
        customer_id=customer_id,
        first_name=details.get("first_name", ""),
        last_name=details.get("last_name", ""),
        email=details.get("email", ""),
        phone=details.get("phone", ""),
        usual_store_id=details.get("usual_store_id", ""),
        updated_at=ctx.now.replace(microsecond=0),
        creation_store_id=details.get("usual_store_id", ""),
    )
    return customer_id


def update_customer(ctx: OpContext, request: Node) -> Any:
    """``customerId`` and ``modifiedData`` (``CustomerInputData``): members sent replace the
    stored ones, members left out stay."""
    customer_id = request.text("customerId")
    customer = ctx.state.customers.get(customer_id)
    if customer is None:
        raise SimFault(f"The customer '{customer_id}' does not exist")
    data = request.child("modifiedData")
    if data is None:
        raise SimFault("modifiedData is mandatory")
    details = _details(data)
    _check_details(ctx, details)
    ctx.state.customers[customer_id] = dataclasses.replace(
        customer, **details, updated_at=ctx.now.replace(microsecond=0)
    )
    return customer_id


def _customer(customer: CustomerRecord) -> dict[str, Any]:
    """A ``CustomerQueryData`` (``CustomerDataBase`` members, then ``CustomerData``'s, then its
    own: ``CustomerId`` comes late)."""
    return {
        "AddressData": {
            "AddressLine1": customer.address_line1,
            "City": customer.city,
            "CountryId": customer.country_id,
            "ZipCode": customer.zip_code,
        },
        "CustomerId": customer.customer_id,
        "EmailData": {"Email": customer.email, "EmailingAccepted": True},
        "FirstName": customer.first_name,
        "LastName": customer.last_name,
        "PhoneData": {"CellularPhoneNumber": customer.phone},
        "TitleId": customer.title_id,
        "UsualStoreId": customer.usual_store_id,
        "Closed": False,
        "CreationStoreId": customer.creation_store_id or customer.usual_store_id,
        "IsProspect": False,
        "LastDateUpdate": customer.updated_at or NULL_DATE,
    }


def _card(card: CardRecord) -> dict[str, Any]:
    program = {
        "Closed": False,
        "CurrencyId": "EUR",
        "ExpiracyDate": card.expires_on,
        "Id": card.program_id,
        "Label": card.program_label,
        "Type": "Points",
    }
    return {
        "ActivationDate": card.activated_on,
        "Active": card.active,
        "AvailableLoyaltyPoints": card.points,
        "BenefitEnable": card.active,
        "Closed": not card.active,
        "CustomerId": card.customer_id,
        "ExpiracyDate": card.expires_on,
        "Id": card.card_id,
        "Program": program,
        "StoreId": card.store_id,
    }


def _customer_cards(ctx: OpContext, customer_id: str) -> list[CardRecord]:
    if customer_id not in ctx.state.customers:
        raise SimFault(f"The customer '{customer_id}' does not exist")
    return [c for c in ctx.state.cards.values() if c.customer_id == customer_id]


def customer_cards(ctx: OpContext, request: Node) -> Any:
    query = request.child("customerCardsRequest") or Node.empty()
    customer_id = query.text("CustomerId") or query.text("CustomerReference")
    cards = _customer_cards(ctx, customer_id)
    if query.bool("ActiveCards"):
        cards = [c for c in cards if c.active]
    return {"CardHeaderGet": [_card(c) for c in cards]}


def customer_points(ctx: OpContext, request: Node) -> Any:
    cards = _customer_cards(ctx, request.text("customerReference"))
    return sum((c.points for c in cards if c.active), Decimal(0))


def update_points(ctx: OpContext, request: Node) -> Any:
    update = request.child("updatePointsRequest")
    if update is None:
        raise SimFault("updatePointsRequest is mandatory")
    card = ctx.state.cards.get(update.text("LoyaltyCardId"))
    if card is None:
        raise SimFault(f"The loyalty card '{update.text('LoyaltyCardId')}' does not exist")
    if not card.active:
        raise SimFault(f"The loyalty card '{card.card_id}' is closed")
    program = update.text("ProgramId")
    if program and program != card.program_id:
        raise SimFault(f"The card '{card.card_id}' does not belong to program '{program}'")
    points = update.decimal("Points") or Decimal(0)
    if card.points + points < 0:
        raise SimFault(f"Not enough points on card '{card.card_id}'")
    card.points += points
    return VOID


CUSTOMER_HANDLERS: dict[str, Handler] = {
    "HelloWorld": hello_world,
    "SearchCustomerIds": search_customer_ids,
    "GetCustomerDetail": customer_detail,
    "GetCustomerIdByReference": customer_id_by_reference,
    "AddNewCustomer": add_new_customer,
    "UpdateCustomer": update_customer,
}
LOYALTY_HANDLERS: dict[str, Handler] = {
    "HelloWorld": hello_world,
    "GetCustomerCards": customer_cards,
    "GetCustomerAvailableLoyaltyPoints": customer_points,
    "UpdatePoints": update_points,
}
