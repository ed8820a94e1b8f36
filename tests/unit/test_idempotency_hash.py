"""The Idempotency-Key body digest: orjson's fast path writes exactly what ``json.dumps`` wrote
(the digests of keys stored before it, up to 7 days, must still match their retries)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
import pytest

from service.usecases.idempotency import legacy_canonical, request_hash


class Kind(StrEnum):
    ORDER = "order"


PICKUP = {
    "kind": "reservation",
    "store_id": "S001",
    "customer": {"email": "ana@example.com", "first_name": "Ana", "ps_customer_id": 42},
    "lines": [{"sku": "JEANS-32", "quantity": 2, "unit_price": "49.90", "label": ""}],
    "ps_order_id": None,
    "payment_status": "pending",
    "nested": {"b": [1, 2, {"z": True, "a": False}], "a": -7},
}
BODIES: list[Any] = [
    PICKUP,
    {"customer_ref": "C0000001", "points": 150, "reference": "cart-9", "store_id": None},
    {**PICKUP, "customer": {"email": "zoe@example.com", "first_name": "Zoé"}},  # non-ASCII
    {**PICKUP, "label": 'a "quoted"\ttab\nline \\ back\u0001'},  # escapes
    {"price": Decimal("12.50"), "at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC)},  # default=str
    {"id": uuid.UUID(int=7), "kind": Kind.ORDER},
    {"big": 2**70, "neg": -(2**65)},
    [],
    {},
]


def _legacy(operation: str, body: Any) -> bytes:
    canonical = legacy_canonical(body)
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).digest()


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_digest_is_the_one_json_dumps_gave(body: Any) -> None:
    assert request_hash("create_pickup", body) == _legacy("create_pickup", body)


def test_the_digest_depends_on_the_operation_and_every_member() -> None:
    assert request_hash("create_pickup", PICKUP) != request_hash("hold_points", PICKUP)
    changed = {**PICKUP, "lines": [{**PICKUP["lines"][0], "quantity": 3}]}
    assert request_hash("create_pickup", changed) != request_hash("create_pickup", PICKUP)
    reordered = dict(reversed(list(PICKUP.items())))
    assert request_hash("create_pickup", reordered) == request_hash("create_pickup", PICKUP)


def test_a_plain_body_takes_orjson_and_writes_the_same_text() -> None:
    fast = orjson.dumps(PICKUP, option=orjson.OPT_SORT_KEYS)
    assert fast.isascii() and b"\\" not in fast  # the fast path's condition holds
    assert fast.decode() == legacy_canonical(PICKUP)
