"""Unit tests of the pieces: circuit breaker, backoff, reply screening, mapping, fault plan."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from service.erp.cegid.mapping import null_date, trim_item_id
from service.erp.cegid.resilience import CircuitBreaker, CircuitOpenError, backoff_delay
from service.erp.cegid.transport import RequestNotSent, check_reply
from service.erp.port import ErpAuthError, ErpProtocolError, ErpUnavailable
from service.erp.simulator.faults import FaultPlan, FaultSpecError
from service.erp.simulator.state import padded_item_id

ENV = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
FAULT = ENV + b"<s:Fault><faultcode>a:X</faultcode></s:Fault></s:Body></s:Envelope>"
OK = ENV + b"<R/></s:Body></s:Envelope>"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_half_opens_and_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, reset_s=10, clock=clock)
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.before_call("svc")
    clock.now = 10
    assert breaker.state == "half_open"
    breaker.before_call("svc")  # the trial call
    with pytest.raises(CircuitOpenError):
        breaker.before_call("svc")  # only one at a time
    breaker.record_failure()  # trial failed: open again
    assert breaker.state == "open"
    clock.now = 20
    breaker.before_call("svc")
    breaker.record_success()
    assert breaker.state == "closed"


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=2, reset_s=10, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_backoff_is_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(a, 0.1, 1.0, rng) for a in range(10) for _ in range(50)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert max(backoff_delay(0, 0.1, 1.0, rng) for _ in range(50)) <= 0.1
    assert max(delays) > 0.5 and min(delays) < 0.05


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, b"", ErpAuthError),
        (403, b"<html/>", ErpAuthError),
        (500, b"<html><body>boom</body></html>", ErpUnavailable),
        (502, b"Bad gateway", ErpUnavailable),
        (503, b"", RequestNotSent),
        (404, b"<html/>", ErpProtocolError),
        (200, b"<s:Envelope", ErpProtocolError),
        (200, b"<html/>", ErpProtocolError),
        (200, b'<!DOCTYPE x [<!ENTITY a "b">]>' + OK, ErpProtocolError),
    ],
)
def test_check_reply_classifies(status: int, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_reply(status, body)


def test_check_reply_passes_envelopes_and_faults() -> None:
    check_reply(200, OK)
    check_reply(500, FAULT)  # zeep turns it into a Fault


def test_item_ids_are_trimmed() -> None:
    assert trim_item_id(padded_item_id("SKU123")) == "SKU123"
    assert trim_item_id("SKU123          X") == "SKU123"
    assert trim_item_id("  BOX  ") == "BOX"  # a SKU ending in X keeps it
    assert trim_item_id("TS001-M   ") == "TS001-M"
    assert trim_item_id(None) == ""


def test_null_dates() -> None:
    assert null_date(datetime(1, 1, 1)) is None
    assert null_date(datetime(2025, 3, 1, 10)) == date(2025, 3, 1)
    assert null_date(date(2026, 1, 2)) == date(2026, 1, 2)
    assert null_date(None) is None


def test_fault_plan_counts_probabilities_and_validation() -> None:
    plan = FaultPlan(seed=3)
    plan.add({"kind": "http500", "operation": "GetAvailableQty", "count": 2})
    plan.add({"kind": "latency", "latency_ms": 30})
    plan.add({"kind": "soap_fault", "probability": 0.0})
    plan.add({"kind": "duplicate"})
    assert plan.draw("ItemInventoryWcfService", "GetAvailableQty")[1] is not None
    latency, rule = plan.draw("ItemInventoryWcfService", "GetAvailableQty")
    assert latency == 30 and rule is not None and rule.kind == "http500"
    latency, rule = plan.draw("ItemInventoryWcfService", "GetAvailableQty")
    assert latency == 30 and rule is None  # count exhausted; probability 0 never fires
    assert plan.draw("SaleDocumentService", "Create")[1].kind == "duplicate"  # type: ignore[union-attr]
    for bad in (
        {"kind": "x"},
        {"kind": "http500", "count": -1},
        {"kind": "latency", "probability": 2},
        {"kind": "drop", "colour": "red"},
    ):
        with pytest.raises(FaultSpecError):
            plan.add(bad)
