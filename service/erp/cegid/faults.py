"""Turning whatever a Cegid call raised into an ``ErpError`` (and a metrics outcome)."""

from __future__ import annotations

import httpx
from lxml import etree
from zeep import exceptions as zeep_errors

from service.erp.cegid.resilience import CircuitOpenError
from service.erp.cegid.transport import RequestNotSent
from service.erp.port import (
    ErpAuthError,
    ErpBusinessError,
    ErpError,
    ErpProtocolError,
    ErpUnavailable,
)

DUPLICATE_DOCUMENT = "CBR00009"  # "This document already exists and cannot be re-integrated"


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: etree._Element | None, name: str) -> str:
    found = _child(el, name) if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def business_error(fault: zeep_errors.Fault) -> ErpBusinessError:
    """The innermost ``CbpExceptionDetail`` message, the fault code (``CBR_001_0003``) and the
    tracking id; falls back to the faultstring when there is no detail."""
    code = str(fault.code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1]
    detail = fault.detail if isinstance(fault.detail, etree._Element) else None
    outer = None
    if detail is not None:
        outer = next((el for el in detail.iter() if _local(el.tag) == "CbpExceptionDetail"), None)
    message, tracking_id, node = "", _text(outer, "TrackingId"), outer
    while node is not None:
        message = _text(node, "Message") or message
        node = _child(node, "InnerException")
    return ErpBusinessError(
        message or str(fault.message or "SOAP fault"), code=code, tracking_id=tracking_id
    )


def is_duplicate_document(error: ErpBusinessError) -> bool:
    return DUPLICATE_DOCUMENT in error.message


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
