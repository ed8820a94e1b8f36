"""Fault paths of the adapter, driven by the simulator's fault injection."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from service.erp.cegid import CegidErp, CircuitOpenError, create
from service.erp.port import (
    DocumentLine,
    ErpAuthError,
    ErpBusinessError,
    ErpProtocolError,
    ErpUnavailable,
    PickupDocument,
)
from service.erp.simulator import SimulatorState
from tests.erp.conftest import Calls, make_config

EAN = "2070000000018"


def inject(state: SimulatorState, **spec: Any) -> None:
    state.faults.add(spec)


def _order(reference: str) -> PickupDocument:
    return PickupDocument(
        kind="order",
        reference=reference,
        store_id="S002",
        web_store_id="WEB",
        customer_id="C0000002",
        lines=(DocumentLine("EC00001-NOI-TU", EAN, 1, Decimal("29.99")),),
        created_at=datetime.now(UTC),
        paid=True,
    )


async def test_timeout_is_unavailable_after_retries(sim_url: str, state: SimulatorState) -> None:
    inject(state, kind="timeout", operation="GetAvailableQty", hang_ms=10_000)
    calls = Calls()
    erp = await create(make_config(sim_url, timeout_s=0.2, retries=1), on_call=calls)
    started = time.monotonic()
    try:
        with pytest.raises(ErpUnavailable, match="timed out"):
            await erp.available_qty(EAN, "S001")
    finally:
        await erp.aclose()
    assert time.monotonic() - started < 3
    assert calls.outcomes("GetAvailableQty") == ["timeout", "timeout"]


async def test_http_500_without_fault_is_retried(
    erp: CegidErp, state: SimulatorState, calls: Calls
) -> None:
    inject(state, kind="http500", operation="GetAvailableQty", count=2)
    assert await erp.available_qty(EAN, "S001") == state.available("S001", 0)
    assert calls.outcomes("GetAvailableQty") == ["unavailable", "unavailable", "ok"]


async def test_persistent_500_gives_up(erp: CegidErp, state: SimulatorState, calls: Calls) -> None:
    inject(state, kind="http500", operation="GetCustomerDetail")
    with pytest.raises(ErpUnavailable, match="HTTP 500"):
        await erp.customer("C0000002")
    assert state.journal.count("GetCustomerDetail") == 3  # 1 + 2 retries


async def test_soap_fault_surfaces_innermost_message(erp: CegidErp, state: SimulatorState) -> None:
    inject(
        state,
        kind="soap_fault",
        operation="GetCustomerDetail",
        code="CBR_001_0042",
        message="Client bloqué par le siège",
    )
    with pytest.raises(ErpBusinessError) as caught:
        await erp.customer("C0000002")
    error = caught.value
    assert error.message == "Client bloqué par le siège"
    assert error.code == "CBR_001_0042"
    assert re.fullmatch(r"[0-9a-f-]{36}", error.tracking_id)
    assert state.journal.count("GetCustomerDetail") == 1  # business faults are not retried


async def test_duplicate_create_returns_the_existing_key(
    erp: CegidErp, state: SimulatorState
) -> None:
    first = await erp.create_pickup_document(_order("PK-DUP"))
    again = await erp.create_pickup_document(_order("PK-DUP"))
    assert again.already_existed and again.key == first.key
    assert len(state.documents) == 1
    assert state.reserved == {("S002", 0): 1}  # held once


async def test_injected_cbr00009_is_looked_up(erp: CegidErp, state: SimulatorState) -> None:
    inject(state, kind="duplicate", count=1)
    result = await erp.create_pickup_document(_order("PK-LOST-ANSWER"))
    assert result.already_existed
    (doc,) = state.documents.values()
    assert (doc.number, doc.stump, doc.doc_type) == (
        result.key.number,
        result.key.stump,
        result.key.type,
    )


async def test_crash_mid_post_then_retry_is_idempotent(
    erp: CegidErp, state: SimulatorState, calls: Calls
) -> None:
    inject(state, kind="drop", operation="Create", count=1)
    result = await erp.create_pickup_document(_order("PK-DROP"))
    assert result.already_existed
    assert len(state.documents) == 1 and state.reserved == {("S002", 0): 1}
    assert calls.outcomes("Create") == ["unavailable", "fault"]


async def test_non_idempotent_update_points_is_not_resent(
    erp: CegidErp, state: SimulatorState
) -> None:
    card = state.cards["LC0000000002"]
    before = card.points
    inject(state, kind="drop", operation="UpdatePoints", count=1)
    with pytest.raises(ErpUnavailable):
        await erp.update_points(
            "LC0000000002", "FID01", Decimal(5), store_id="S001", comment="", when=datetime.now(UTC)
        )
    assert card.points == before + 5  # applied once, never twice
    assert state.journal.count("UpdatePoints") == 1


async def test_503_is_safe_to_resend_even_for_points(erp: CegidErp, state: SimulatorState) -> None:
    before = state.cards["LC0000000002"].points
    inject(state, kind="down", operation="UpdatePoints", count=1)
    await erp.update_points(
        "LC0000000002", "FID01", Decimal(5), store_id="S001", comment="", when=datetime.now(UTC)
    )
    assert state.cards["LC0000000002"].points == before + 5
    assert state.journal.count("UpdatePoints") == 2


async def test_wrong_password_is_auth_error(sim_url: str, state: SimulatorState) -> None:
    erp = await create(make_config(sim_url, password="wrong"))
    try:
        with pytest.raises(ErpAuthError):
            await erp.hello()
    finally:
        await erp.aclose()
    with pytest.raises(ErpAuthError):
        await create(make_config(sim_url, password="wrong", use_remote_wsdl=True))


async def test_remote_wsdl_can_be_used(sim_url: str) -> None:
    erp = await create(make_config(sim_url, use_remote_wsdl=True))
    try:
        assert "DatabaseId: DEMO" in await erp.hello()
    finally:
        await erp.aclose()


@pytest.mark.parametrize("kind", ["malformed", "xml_bomb", "xxe"])
async def test_hostile_or_broken_xml_is_a_protocol_error(
    kind: str, erp: CegidErp, state: SimulatorState, calls: Calls
) -> None:
    inject(state, kind=kind, operation="GetCustomerDetail")
    started = time.monotonic()
    with pytest.raises(ErpProtocolError) as caught:
        await erp.customer("C0000002")
    assert time.monotonic() - started < 1.0
    assert "root:" not in str(caught.value)  # /etc/passwd never read
    assert calls.outcomes("GetCustomerDetail") == ["protocol"]  # not retried
    state.faults.clear()
    assert await erp.customer("C0000002") is not None  # the adapter is still usable


async def test_circuit_opens_then_closes_after_reset(sim_url: str, state: SimulatorState) -> None:
    calls = Calls()
    erp = await create(make_config(sim_url, retries=0, circuit_reset_s=0.5), on_call=calls)
    try:
        inject(state, kind="http500", operation="GetCustomerDetail")
        for _ in range(3):
            with pytest.raises(ErpUnavailable):
                await erp.customer("C0000002")
        assert erp.circuit_states()["CustomerWcfService"] == "open"
        with pytest.raises(CircuitOpenError):
            await erp.customer("C0000002")
        assert state.journal.count("GetCustomerDetail") == 3  # the 4th never left
        assert await erp.hello()  # other services keep their own circuit
        state.faults.clear()
        await asyncio.sleep(0.55)
        assert erp.circuit_states()["CustomerWcfService"] == "half_open"
        assert await erp.customer("C0000002") is not None
        assert erp.circuit_states()["CustomerWcfService"] == "closed"
    finally:
        await erp.aclose()
    assert calls.outcomes("GetCustomerDetail")[-2:] == ["circuit_open", "ok"]


async def test_concurrency_is_bounded(sim_url: str, state: SimulatorState) -> None:
    inject(state, kind="latency", operation="HelloWorld", latency_ms=100)
    erp = await create(make_config(sim_url, max_concurrency=2))
    started = time.monotonic()
    try:
        await asyncio.gather(*(erp.hello() for _ in range(6)))
    finally:
        await erp.aclose()
    assert time.monotonic() - started >= 0.29  # 6 calls, 2 at a time, 100 ms each
