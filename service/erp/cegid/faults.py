"""Turning whatever a Cegid call raised into an ``ErpError`` (and a metrics outcome)."""

from __future__ import annotations

import httpx
from lxml import etree
from zeep import exceptions as zeep_errors

from service.erp.cegid.resilience import CircuitOpenError
from service.erp.cegid.transport import RequestNotSent
from service.erp.cegid.xmlread import El, local
from service.erp.port import (
    ErpAuthError,
    ErpBusinessError,
    ErpError,
    ErpProtocolError,
    ErpUnavailable,
)

DUPLICATE_DOCUMENT = "CBR00009"  # "This document already exists and cannot be re-integrated"
ALREADY_CANCELLED = "Order cancelled. No processing authorised"


# Faults WCF's dispatcher raises before any Cegid code runs: what we sent does not fit the
# tenant's contract (an action it does not know, a body it cannot deserialise). Not a business
# refusal: a protocol error, named after the operation.
_DISPATCHER_CODES = frozenset(
    {"DeserializationFailed", "ActionNotSupported", "ContractFilter", "InvalidMessageContract"}
)
_DETAILS = ("CbpExceptionDetail", "ExceptionDetail", "BusinessFaultDetail", "CbpFaultDetail")


def _member(el: El | None, name: str) -> str:
    return el.text(name) if el is not None else ""


def _chain_message(detail: El) -> str:
    """The innermost non-empty ``Message`` of an ``ExceptionDetail``/``CbpExceptionDetail``
    chain (``InnerException`` nested to any depth)."""
    message, node = "", detail
    for _ in range(64):  # a chain deeper than this is not a Cegid one
        message = node.text("Message") or message
        inner = node.child("InnerException")
        if inner is None:
            break
        node = inner
    return message


def fault_error(root: etree._Element, operation: str) -> ErpError:
    """The ``ErpError`` of a SOAP 1.1 fault envelope: ``ErpBusinessError`` with the innermost
    message of whichever public detail it carries (``CbpExceptionDetail`` chain,
    ``BusinessFaultDetail`` or ``CbpFaultDetail``: Message, else Description, else Cause, with
    the MemberNames at fault), its fault code and tracking id; ``ErpProtocolError`` for WCF
    dispatcher faults (our request does not fit the tenant's contract)."""
    body = El(root).child("Body")
    fault = body.child("Fault") if body is not None else None
    if fault is None:
        return ErpProtocolError(f"{operation}: fault reply without a Fault")
    code = fault.text("faultcode").rsplit(":", 1)[-1]
    faultstring = fault.text("faultstring")
    if code in _DISPATCHER_CODES or "ContractFilter mismatch" in faultstring:
        return ErpProtocolError(
            f"{operation}: the ERP cannot read our request ({code}): {faultstring}"
        )
    detail_el = fault.child("detail")
    detail = None
    if detail_el is not None:
        detail = next((d for n in _DETAILS for d in detail_el.children(n)), None)
    message = tracking_id = ""
    if detail is not None and local(detail.el.tag) in ("CbpExceptionDetail", "ExceptionDetail"):
        message, tracking_id = _chain_message(detail), _member(detail, "TrackingId")
    elif detail is not None:
        message = detail.text("Message") or detail.text("Description") or detail.text("Cause")
        names = [s.value for s in detail.items("MemberNames", "string") if s.value]
        if names:
            message = f"{message} ({', '.join(names)})" if message else ", ".join(names)
    return ErpBusinessError(
        message or faultstring or "SOAP fault", code=code, tracking_id=tracking_id
    )


def business_error(fault: zeep_errors.Fault) -> ErpBusinessError:
    """A fault zeep raised itself (not through ``fault_error``): its message and code."""
    code = str(fault.code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1]
    return ErpBusinessError(str(fault.message or "SOAP fault"), code=code)


def is_duplicate_document(error: ErpBusinessError) -> bool:
    return DUPLICATE_DOCUMENT in error.message


def is_already_cancelled(error: ErpBusinessError) -> bool:
    """Cegid's answer to a second Cancel: "Order cancelled. No processing authorised
    (TCbrECommerceHelper.CheckAnnulePieceEco)" (jalibudbud/altavant-cegid-api-js,
    lib/helpers/readable-error/sales-readable-error.js)."""
    return ALREADY_CANCELLED in error.message


def is_unknown_customer(error: ErpBusinessError) -> bool:
    """A customer id the ERP does not know (GetCustomerDetail, GetCustomerCards)."""
    text = error.message.lower()
    return "customer" in text and any(w in text for w in ("unknown", "not found", "does not exist"))


def classify(exc: Exception) -> tuple[ErpError, str] | None:
    """(the ErpError to raise, the metrics outcome) for an exception raised by a call; None for
    exceptions that are not about the ERP (programming errors: let them propagate)."""
    if isinstance(exc, CircuitOpenError):
        return exc, "circuit_open"
    if isinstance(exc, ErpError):
        return exc, _outcome_of(exc)
    if isinstance(exc, zeep_errors.Fault):
        return business_error(exc), "fault"
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return RequestNotSent(f"cannot connect: {exc!r}"), "unavailable"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return ErpUnavailable(f"timed out: {exc!r}"), "timeout"
    if isinstance(exc, httpx.TransportError):
        return ErpUnavailable(f"transport error: {exc!r}"), "unavailable"
    if isinstance(exc, zeep_errors.TransportError) and (exc.status_code or 0) >= 500:
        return ErpUnavailable(f"HTTP {exc.status_code}"), "unavailable"
    if isinstance(exc, zeep_errors.Error | etree.LxmlError):
        return ErpProtocolError(f"unreadable reply: {exc!r}"), "protocol"
    return None


def _outcome_of(error: ErpError) -> str:
    if isinstance(error, ErpAuthError):
        return "auth"
    if isinstance(error, ErpBusinessError):
        return "fault"
    if isinstance(error, ErpProtocolError):
        return "protocol"
    return "unavailable"
