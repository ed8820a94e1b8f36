from __future__ import annotations

import pytest

from service.domain.errors import (
    AmbiguousReference,
    DomainError,
    IllegalTransition,
    InsufficientPoints,
    InsufficientStock,
    InvalidIdentifier,
    InvalidRule,
    PickupCodeLocked,
    Shortfall,
    UnknownSku,
    UnknownStore,
)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (UnknownSku("ABC"), "unknown item 'ABC'"),
        (UnknownStore("S9"), "unknown store 'S9'"),
        (
            InvalidIdentifier("ean13", "123", "expected 13 digits"),
            "invalid ean13 '123': expected 13 digits",
        ),
        (AmbiguousReference("REF", ["1:0", "2:0"]), "reference 'REF' matches 2 items: 1:0, 2:0"),
        (
            InsufficientStock([Shortfall("S1", "A", 3, 1), Shortfall("S2", "B", 1, 0)]),
            "insufficient stock: A at store S1: requested 3, available 1; "
            "B at store S2: requested 1, available 0",
        ),
        (
            IllegalTransition("ready", "expire", ["no_show", "collect"]),
            "cannot expire a pickup that is ready (allowed: collect, no_show)",
        ),
        (PickupCodeLocked(5), "pickup code locked after 5 wrong attempts"),
        (InsufficientPoints(10, 25), "requested 25 points, only 10 available"),
        (
            InvalidRule("R1", {"percent": "too big", "channel": "bad"}),
            "invalid promotion rule 'R1': channel: bad; percent: too big",
        ),
    ],
)
def test_errors_are_domain_errors_with_plain_messages(error: DomainError, message: str) -> None:
    assert isinstance(error, DomainError)
    assert str(error) == message


def test_value_and_lookup_errors_keep_their_builtin_family() -> None:
    assert isinstance(InvalidIdentifier("sku", "", "empty"), ValueError)
    assert isinstance(InvalidRule("R", {}), ValueError)
    assert isinstance(UnknownSku("A"), LookupError)
    assert Shortfall("S1", "A", 5, 2).missing == 3
