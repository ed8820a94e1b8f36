"""Request and response models of the loyalty endpoints (they drive validation and OpenAPI)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

_CARD = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Amount(BaseModel):
    amount: str = Field(description="Decimal string.")
    currency: str


class Rate(Amount):
    points: int = Field(description="This many points are worth `amount`.")


class CardOut(BaseModel):
    number: str
    program_id: str
    program_label: str
    active: bool
    expires_on: date | None
    erp_points: int
    held_points: int
    points_available: int


class ProgramOut(BaseModel):
    program_id: str
    label: str
    points_available: int
    value: Amount | None = Field(description="What the available points are worth.")
    rate: Rate | None = Field(description="None: no value configured for this program.")


class HoldOut(BaseModel):
    id: str
    customer_id: str
    card_number: str
    program_id: str
    points: int
    value: Amount | None
    state: Literal["held", "committed", "released", "expired"]
    reference: str
    store_id: str
    created_at: datetime
    expires_at: datetime
    committed_at: datetime | None
    closed_at: datetime | None
    erp_posted: bool = Field(description="The ERP acknowledged the UpdatePoints post.")
    erp_acked_at: datetime | None
    points_available: int | None = Field(
        default=None, description="Creation answer only: the card's balance after this hold."
    )


class LoyaltyOut(BaseModel):
    customer_id: str
    resolved_by: Literal["customer_id", "email", "card"]
    cards: list[CardOut]
    erp_points: int = Field(description="Points of the active cards as the ERP reported them.")
    held_points: int = Field(description="Points of redemption holds the ERP does not show yet.")
    pending_accruals: int = Field(description="Always 0: omnistock records no accruals yet.")
    points_available: int = Field(description="Unified balance: what can be redeemed now.")
    programs: list[ProgramOut]
    holds: list[HoldOut]
    as_of: datetime = Field(description="When the ERP points were read.")
    stale: bool
    source: Literal["erp", "cache", "fallback"]


class HoldIn(BaseModel):
    points: int = Field(ge=1, le=10_000_000)
    reference: str = Field(default="", max_length=64, description="Pickup or order reference.")
    card_number: str | None = Field(
        default=None, pattern=_CARD, description="Needed when the customer has several cards."
    )
    store_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Where the points are spent (UpdatePoints StoreId); default the web store.",
    )


class CommitIn(BaseModel):
    reference: str = Field(default="", max_length=64, description="Order reference, if new.")


class ResolveIn(BaseModel):
    posted: bool = Field(description="Whether Cegid shows the movement of this hold.")
