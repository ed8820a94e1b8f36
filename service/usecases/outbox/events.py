"""Pickup outbox events and what each asks of the ERP (pure: payloads in, port values out).

Kinds and payloads (written by the pickup use cases, in the transaction of the change):

- ``pickup.created``: ``{pickup_id, kind, store_id, customer{email, first_name, last_name, phone,
  erp_customer_id}, currency, created_at, expires_at, external_reference, paid,
  lines[{sku, ean, quantity, unit_price, label}]}`` -> create the order / e-reservation;
- ``pickup.ready`` -> FollowUpStatus ``AvailableInStore``; ``pickup.collected`` ->
  ``PickedUpInStore``; ``pickup.cancelled``, ``pickup.expired``, ``pickup.no_show`` -> cancel
  (payload ``{pickup_id, at}``);
- ``loyalty.redeem`` (aggregate ``loyalty``, id = the hold id): ``{hold_id, card_id, program_id,
  points, store_id, comment, at}`` -> UpdatePoints of ``-points`` on the card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast, get_args

from service.domain.pickups import VOCABULARY, ErpStep, PickupState
from service.erp.port import DocumentKey, DocumentLine, FollowUpStatus, PickupDocument


def _follow_up(name: str) -> FollowUpStatus:
    """The port's status of a follow-up the domain names (the domain cannot import the port)."""
    if name not in get_args(FollowUpStatus):
        raise ValueError(f"the ERP port has no follow-up status {name!r}")
    return cast(FollowUpStatus, name)


# The pickup kinds, from the domain's vocabulary (service/domain/pickups.py).
CREATED = VOCABULARY[PickupState.CONFIRMED].outbox_kind
FOLLOW_UPS: dict[str, FollowUpStatus] = {
    w.outbox_kind: _follow_up(w.follow_up)
    for w in VOCABULARY.values()
    if w.erp is ErpStep.FOLLOW_UP
}
CANCELLING = frozenset(w.outbox_kind for w in VOCABULARY.values() if w.erp is ErpStep.CANCEL)
KINDS = frozenset(w.outbox_kind for w in VOCABULARY.values())
REDEEM = "loyalty.redeem"


class BadEvent(ValueError):
    """An outbox row no retry can fix (unknown kind or pickup, malformed payload)."""


def _datetime(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise BadEvent(f"payload.{name} is not an ISO 8601 time: {value!r}") from None


def _line(data: Any, index: int) -> DocumentLine:
    where = f"payload.lines[{index}]"
    if not isinstance(data, Mapping) or not data.get("sku"):
        raise BadEvent(f"{where} needs a sku")
    quantity = data.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise BadEvent(f"{where}.quantity must be a positive integer")
    price = data.get("unit_price")
    try:
        unit_price = None if price is None else Decimal(str(price))
    except InvalidOperation:
        raise BadEvent(f"{where}.unit_price is not a decimal: {price!r}") from None
    return DocumentLine(
        sku=str(data["sku"]),
        barcode=str(data.get("ean") or ""),
        quantity=quantity,
        unit_price=unit_price,
        label=str(data.get("label") or ""),
    )


def pickup_document(
    payload: Mapping[str, Any], pickup_id: str, web_store_id: str, customer_id: str
) -> PickupDocument:
    """The ERP document of a ``pickup.created`` payload; its reference is the pickup id."""
    kind = payload.get("kind")
    if kind not in ("reservation", "order"):
        raise BadEvent(f"payload.kind must be 'reservation' or 'order', not {kind!r}")
    if not payload.get("store_id"):
        raise BadEvent("payload.store_id is missing")
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines:
        raise BadEvent("payload.lines must be a non-empty list")
    return PickupDocument(
        kind=kind,
        reference=pickup_id,
        store_id=str(payload["store_id"]),
        web_store_id=web_store_id,
        customer_id=customer_id,
        lines=tuple(_line(line, i) for i, line in enumerate(lines)),
        currency=str(payload.get("currency") or "EUR"),
        created_at=_datetime(payload, "created_at"),
        expires_at=_datetime(payload, "expires_at"),
        external_reference=str(payload.get("external_reference") or ""),
        paid=payload.get("paid") is True,
    )


def payload_skus(payload: Mapping[str, Any]) -> tuple[str, ...]:
    lines = payload.get("lines")
    if not isinstance(lines, list):
        return ()
    return tuple(str(x["sku"]) for x in lines if isinstance(x, Mapping) and x.get("sku"))


def key_json(key: DocumentKey) -> dict[str, Any]:
    """A document key as stored in ``pickups.erp_document``."""
    return {"number": key.number, "stump": key.stump, "type": key.type}


def document_key(stored: Any) -> DocumentKey:
    if not isinstance(stored, Mapping):
        raise BadEvent(f"pickups.erp_document is not a document key: {stored!r}")
    try:
        return DocumentKey(int(stored["number"]), str(stored["stump"]), str(stored["type"]))
    except (KeyError, TypeError, ValueError):
        raise BadEvent(f"pickups.erp_document is not a document key: {stored!r}") from None


@dataclass(frozen=True, slots=True)
class Redemption:
    """A ``loyalty.redeem`` payload: take ``points`` (> 0) from the card."""

    hold_id: str
    card_id: str
    program_id: str
    points: Decimal
    store_id: str
    comment: str
    at: datetime


def redemption(payload: Mapping[str, Any]) -> Redemption:
    for name in ("hold_id", "card_id", "program_id", "store_id"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise BadEvent(f"payload.{name} is missing")
    points = payload.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise BadEvent(f"payload.points must be a positive integer, not {points!r}")
    at = _datetime(payload, "at")
    if at is None:
        raise BadEvent("payload.at is missing")
    return Redemption(
        hold_id=payload["hold_id"],
        card_id=payload["card_id"],
        program_id=payload["program_id"],
        points=Decimal(points),
        store_id=payload["store_id"],
        comment=str(payload.get("comment") or ""),
        at=at,
    )
