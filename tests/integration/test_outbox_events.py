"""Pure parts of the relay: payload -> ERP document, document keys, retry delays."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from service.erp.port import DocumentKey
from service.usecases.outbox.events import (
    BadEvent,
    document_key,
    key_json,
    payload_skus,
    pickup_document,
)
from service.usecases.outbox.relay import retry_delay

PAYLOAD: dict[str, Any] = {
    "pickup_id": "p-1",
    "kind": "order",
    "store_id": "S002",
    "customer": {"email": "a@b.c", "erp_customer_id": None},
    "currency": "EUR",
    "created_at": "2025-03-01T09:30:00+00:00",
    "expires_at": "2025-03-03T18:00:00Z",
    "external_reference": "XKBKNABJK",
    "paid": True,
    "lines": [
        {"sku": "A1", "ean": "3000000000017", "quantity": 2, "unit_price": "12.50", "label": "T"},
        {"sku": "B2", "ean": None, "quantity": 1, "unit_price": None, "label": ""},
    ],
}


def test_a_created_payload_becomes_the_document() -> None:
    doc = pickup_document(PAYLOAD, "p-1", "WEB", "C0000007")
    assert (doc.kind, doc.reference, doc.store_id, doc.web_store_id) == (
        "order",
        "p-1",
        "S002",
        "WEB",
    )
    assert doc.customer_id == "C0000007" and doc.paid is True and doc.currency == "EUR"
    assert doc.external_reference == "XKBKNABJK"
    assert doc.created_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert doc.expires_at == datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
    first, second = doc.lines
    assert (first.sku, first.barcode, first.quantity, first.unit_price) == (
        "A1",
        "3000000000017",
        2,
        Decimal("12.50"),
    )
    assert (second.barcode, second.unit_price) == ("", None)
    assert payload_skus(PAYLOAD) == ("A1", "B2")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "gift"}, "payload.kind"),
        ({"store_id": ""}, "store_id"),
        ({"lines": []}, "non-empty"),
        ({"lines": [{"sku": "A1", "quantity": 0}]}, "positive integer"),
        ({"lines": [{"sku": "A1", "quantity": True}]}, "positive integer"),
        ({"lines": [{"quantity": 1}]}, "needs a sku"),
        ({"lines": [{"sku": "A1", "quantity": 1, "unit_price": "12,5"}]}, "not a decimal"),
        ({"expires_at": "tomorrow"}, "ISO 8601"),
    ],
)
def test_malformed_payloads_are_bad_events(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadEvent, match=message):
        pickup_document({**PAYLOAD, **change}, "p-1", "WEB", "")


def test_document_keys_round_trip_and_bad_ones_are_refused() -> None:
    key = DocumentKey(1020000001, "WEB1", "CustomerOrder")
    assert document_key(key_json(key)) == key
    for stored in ({"number": "x", "stump": "A", "type": "T"}, {"stump": "A"}, "WEB1", None):
        with pytest.raises(BadEvent):
            document_key(stored)


def test_retry_delay_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(7)
    for attempt, cap in [(0, 2.0), (1, 4.0), (3, 16.0), (9, 600.0), (500, 600.0)]:
        delays = [retry_delay(attempt, 2.0, 600.0, rng) for _ in range(300)]
        assert min(delays) >= 0.0 and max(delays) <= cap
        assert max(delays) > 0.8 * cap and min(delays) < 0.2 * cap  # spread over [0, cap]
