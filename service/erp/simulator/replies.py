"""From a raw SOAP request to (HTTP status, body): checks in the order WCF makes them, then the
operation handler; and the canned replies of injected faults."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from service.erp.simulator.faults import (
    FaultRule,
    malformed_payload,
    xml_bomb_payload,
    xxe_payload,
)
from service.erp.simulator.opcontext import VOID, Handler, OpContext
from service.erp.simulator.schema import ServiceSchema
from service.erp.simulator.state import SimulatorState
from service.erp.simulator.xmlio import (
    BadXml,
    Node,
    SimFault,
    cbr_fault,
    parse_safely,
    reply,
    soap_fault,
)
from service.erp.wsdl import NS_RETAIL, NS_SOAP_ENV
from service.erp.wsdl.contract import contracts

NS_DISPATCHER = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher"
_ENVELOPE = f"{{{NS_SOAP_ENV}}}Envelope"
_BODY = f"{{{NS_SOAP_ENV}}}Body"
_HTML_500 = b"<html><head><title>Runtime Error</title></head><body><h1>Server Error</h1></html>"
_HTML_503 = b"<html><body><h1>Service Unavailable</h1><p>HTTP Error 503.</p></body></html>"
_HTML_504 = b"<html><body><h1>Gateway Timeout</h1></body></html>"


def action_not_supported(action: str) -> bytes:
    return soap_fault(
        "a:ActionNotSupported",
        NS_DISPATCHER,
        f"The message with Action '{action}' cannot be processed at the receiver, due to a "
        "ContractFilter mismatch at the EndpointDispatcher. This may be because of either a "
        "contract mismatch (mismatched Actions between sender and receiver) or a "
        "binding/security mismatch between the sender and the receiver.",
    )


def deserialization_failed(operation: str, reason: str) -> bytes:
    return soap_fault(
        "a:DeserializationFailed",
        NS_DISPATCHER,
        "The formatter threw an exception while trying to deserialize the message: There was an "
        f"error while trying to deserialize parameter {NS_RETAIL}:{operation}. {reason}",
    )


def injected_reply(rule: FaultRule | None, operation: str) -> tuple[int, bytes] | None:
    """The canned answer of a fault rule that replaces the operation, or None."""
    if rule is None:
        return None
    canned = {
        "http500": lambda: (500, _HTML_500),
        "down": lambda: (503, _HTML_503),
        "timeout": lambda: (504, _HTML_504),
        "soap_fault": lambda: (
            500,
            cbr_fault(SimFault(rule.message, code=rule.code, detail=rule.detail), operation),
        ),
        "malformed": lambda: (200, malformed_payload(operation)),
        "xml_bomb": lambda: (200, xml_bomb_payload(operation)),
        "xxe": lambda: (200, xxe_payload(operation)),
    }.get(rule.kind)
    return canned() if canned else None


def _wrapper(body: bytes, operation: str) -> etree._Element:
    """The operation element of the Body; raises with the fault WCF would answer."""
    try:
        root = parse_safely(body)
    except BadXml as exc:
        raise _Reply(400, str(exc).encode()) from exc
    body_el = root.find(_BODY) if root.tag == _ENVELOPE else None
    wrapper = body_el[0] if body_el is not None and len(body_el) else None
    if wrapper is None or wrapper.tag != f"{{{NS_RETAIL}}}{operation}":
        found = "nothing" if wrapper is None else str(wrapper.tag)
        reason = f"Expected element '{operation}' in namespace '{NS_RETAIL}'; found {found}."
        raise _Reply(500, deserialization_failed(operation, reason))
    return wrapper


class _Reply(Exception):
    def __init__(self, status: int, payload: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


def execute(
    state: SimulatorState,
    schema: ServiceSchema,
    handlers: dict[str, Handler],
    *,
    operation: str,
    body: bytes,
    identity: str,
    database_id: str,
    now: datetime,
    inject_duplicate: bool = False,
) -> tuple[int, bytes]:
    """Envelope, schema (names/order/types), DatabaseId, then the handler."""
    try:
        wrapper = _wrapper(body, operation)
    except _Reply as early:
        return early.status, early.payload
    errors = schema.errors(wrapper)
    if errors:
        return 500, deserialization_failed(operation, errors)
    request = Node(wrapper)
    context = request.child(schema.info.context_param_for(operation))
    given = context.text("DatabaseId") if context is not None else ""
    raw = body.decode(errors="replace")
    ctx = OpContext(state, operation, database_id, identity, raw, now, inject_duplicate)
    try:
        if given.upper() != database_id.upper():
            raise SimFault(f"Unknown database '{given}'", code="CBR_000_0002", wp="WP001")
        result = handlers[operation](ctx, request)
    except SimFault as fault:
        return 500, cbr_fault(fault, operation)
    return 200, reply(contracts()[schema.info.name], operation, result, void=result is VOID)
