"""Domain exceptions shared across omnistock.

Every error the pure domain raises derives from ``DomainError`` so the API's error middleware can
map it in one place (``InsufficientStock`` -> 409, ``UnknownSku`` -> 404, ``InvalidRule`` -> 422,
...). Errors carry structured attributes, never only a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class DomainError(Exception):
    """Base class of every error raised by ``service.domain``."""


class InvalidIdentifier(DomainError, ValueError):
    """A SKU, barcode or PrestaShop key that cannot be valid.

    ``kind`` names the identifier (``"ean13"``, ``"upca"``, ``"sku"``, ``"prestashop_key"``...),
    ``value`` is what we received and ``reason`` says why it was refused.
    """

    def __init__(self, kind: str, value: object, reason: str) -> None:
        super().__init__(f"invalid {kind} {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


class UnknownSku(DomainError, LookupError):
    """No sellable item matches ``key`` (a SKU, barcode or PrestaShop key, as given)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"unknown item {key!r}")
        self.key = key


class UnknownStore(DomainError, LookupError):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"unknown store {store_id!r}")
        self.store_id = store_id


class AmbiguousReference(DomainError, LookupError):
    """A PrestaShop ``reference`` shared by several products: reported, never guessed."""

    def __init__(self, reference: str, candidates: Iterable[object]) -> None:
        self.reference = reference
        self.candidates = tuple(candidates)
        shown = ", ".join(str(c) for c in self.candidates)
        super().__init__(f"reference {reference!r} matches {len(self.candidates)} items: {shown}")


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One line of a stock request that cannot be served in full."""

    store_id: str
    sku: str
    requested: int
    available: int

    @property
    def missing(self) -> int:
        return self.requested - self.available


class InsufficientStock(DomainError):
    """A stock request refused as a whole; ``shortfalls`` lists every short line."""

    def __init__(self, shortfalls: Iterable[Shortfall]) -> None:
        self.shortfalls = tuple(shortfalls)
        lines = "; ".join(
            f"{s.sku} at store {s.store_id}: requested {s.requested}, available {s.available}"
            for s in self.shortfalls
        )
        super().__init__(f"insufficient stock: {lines}")


class IllegalTransition(DomainError):
    """A pickup event that its current state does not allow."""

    def __init__(self, current: str, event: str, allowed: Iterable[str] = ()) -> None:
        self.current = current
        self.event = event
        self.allowed = tuple(sorted(allowed))
        options = ", ".join(self.allowed) or "none, the pickup is closed"
        super().__init__(f"cannot {event} a pickup that is {current} (allowed: {options})")


class PickupCodeLocked(DomainError):
    """Too many wrong pickup codes: the pickup needs a staff override."""

    def __init__(self, failures: int) -> None:
        super().__init__(f"pickup code locked after {failures} wrong attempts")
        self.failures = failures


class InsufficientPoints(DomainError):
    """A loyalty redemption above the customer's available points."""

    def __init__(self, available: object, requested: object) -> None:
        super().__init__(f"requested {requested} points, only {available} available")
        self.available = available
        self.requested = requested


class InvalidRule(DomainError, ValueError):
    """A malformed promotion rule; ``errors`` maps each bad field to what is wrong with it."""

    def __init__(self, rule_id: str, errors: Mapping[str, str]) -> None:
        self.rule_id = rule_id
        self.errors = dict(errors)
        detail = "; ".join(f"{field}: {why}" for field, why in sorted(self.errors.items()))
        super().__init__(f"invalid promotion rule {rule_id!r}: {detail}")
