"""CustomerWcfService (SearchCustomerIds, GetCustomerDetail) and LoyaltyWcfService
(GetCustomerCards, GetCustomerAvailableLoyaltyPoints, UpdatePoints) operations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.erp.simulator.opcontext import VOID, Handler, OpContext, hello_world
from service.erp.simulator.state import CardRecord, CustomerRecord
from service.erp.simulator.xmlio import Node, SimFault


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
        "IsProspect": False,
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
}
LOYALTY_HANDLERS: dict[str, Handler] = {
    "HelloWorld": hello_world,
    "GetCustomerCards": customer_cards,
    "GetCustomerAvailableLoyaltyPoints": customer_points,
    "UpdatePoints": update_points,
}
