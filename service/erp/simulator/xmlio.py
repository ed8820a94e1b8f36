"""XML in and out for the simulator: safe parsing, reading requests, writing Cegid-shaped replies.

Replies are written like WCF writes them: ``<OpResponse xmlns="http://www.cegid.fr/Retail/1.0">
<OpResult>`` with unprefixed children, every member of each type in contract order (base-class
members first, see ``service/erp/wsdl/contract.txt``), null ones as ``i:nil="true"``,
Arrays-namespace ``a:string`` items, ``0001-01-01T00:00:00`` for null dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from service.erp.wsdl import NS_ARRAYS, NS_FAULT, NS_RETAIL, NS_SOAP_ENV, NS_XSI
from service.erp.wsdl.contract import SIMPLE, ServiceContract

NULL_DATE = datetime(1, 1, 1)
NIL = object()  # a member written as xsi:nil="true"
_R = f"{{{NS_RETAIL}}}"
_NSMAP = {None: NS_RETAIL, "a": NS_ARRAYS, "i": NS_XSI}


class BadXml(ValueError):
    """The request is not well-formed XML, or carries a DTD."""


class SimFault(Exception):
    """A business fault, answered as Cegid does: innermost ``message`` is the useful part."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "CBR_001_0003",
        wp: str = "WP006",
        detail: str = "CbpExceptionDetail",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.wp = wp
        self.detail = detail  # CbpExceptionDetail | BusinessFaultDetail | CbpFaultDetail


def parse_safely(body: bytes) -> etree._Element:
    """Parse without DTDs, entity expansion or network access; refuse any DOCTYPE."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise BadXml(str(exc)) from exc
    if root.getroottree().docinfo.doctype:
        raise BadXml("DTD is prohibited in this document")
    return root


class Node:
    """Read access to a request element by member local names (Retail namespace)."""

    __slots__ = ("el",)

    def __init__(self, el: etree._Element) -> None:
        self.el = el

    @classmethod
    def empty(cls) -> Node:
        return cls(etree.Element("empty"))

    def child(self, name: str) -> Node | None:
        found = self.el.find(_R + name)
        if found is None or found.get(f"{{{NS_XSI}}}nil") == "true":
            return None
        return Node(found)

    def children(self, name: str) -> list[Node]:
        return [Node(el) for el in self.el.iterfind(_R + name)]

    def text(self, name: str, default: str = "") -> str:
        found = self.child(name)
        return (found.el.text or "").strip() if found is not None else default

    def strings(self, name: str) -> list[str]:
        found = self.child(name)
        if found is None:
            return []
        return [(s.text or "").strip() for s in found.el.iterfind(f"{{{NS_ARRAYS}}}string")]

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        return value in ("true", "1") if value else default

    def int(self, name: str, default: int = 0) -> int:
        value = self.text(name)
        return int(value) if value else default

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        try:
            return Decimal(value) if value else None
        except InvalidOperation as exc:
            raise SimFault(f"'{value}' is not a valid decimal for {name}") from exc

    def datetime(self, name: str) -> datetime | None:
        value = self.text(name)
        if not value or value.startswith("0001-01-01"):
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return str(value)


def _tag(key: str) -> str:
    return key if key.startswith("{") else _R + key


def _local(key: str) -> str:
    return key.rsplit("}", 1)[-1]


_DEFAULTS = {
    "int": "0",
    "decimal": "0",
    "boolean": "false",
    "dateTime": "0001-01-01T00:00:00",
    "guid": "00000000-0000-0000-0000-000000000000",
}


class ContractWriter:
    """Writes a value of a contract type as WCF's DataContractSerializer does: members in
    contract order (base members first), every member present, null reference members as
    ``i:nil="true"``, null value members as their default (0, false, year 1, the first enum
    value). A key the contract does not declare is a simulator bug: ``ValueError``."""

    def __init__(self, svc: ServiceContract) -> None:
        self.svc = svc

    def write(self, parent: etree._Element, type_name: str, value: Any) -> None:
        if value is NIL:
            parent.set(f"{{{NS_XSI}}}nil", "true")
            return
        if type_name in SIMPLE:
            parent.text = _text(value)
            return
        t = self.svc.type(type_name)
        if t.kind == "enum":
            parent.text = _text(value)
        elif t.kind == "array":
            assert t.item is not None
            items = value.get(t.item.name, []) if isinstance(value, Mapping) else value
            tag = f"{{{NS_ARRAYS}}}string" if type_name == "ArrayOfstring" else _R + t.item.name
            for item in items:
                self.write(etree.SubElement(parent, tag), t.item.type, item)
        else:
            self._members(parent, type_name, value)

    def _members(self, parent: etree._Element, type_name: str, value: Mapping[str, Any]) -> None:
        members = self.svc.members(type_name)
        unknown = set(value) - {m.name for m in members}
        if unknown:
            raise ValueError(f"{type_name} has no member {sorted(unknown)}")
        for m in members:
            child = etree.SubElement(parent, _R + m.name)
            given = value.get(m.name)
            if given is not None:
                self.write(child, m.type, given)
            elif self.svc.nillable(m):
                child.set(f"{{{NS_XSI}}}nil", "true")
            elif m.type in _DEFAULTS:
                child.text = _DEFAULTS[m.type]
            else:  # an enum
                child.text = self.svc.type(m.type).values[0]


class Markup(str):
    """The members of a Result element already written as XML, escaped with ``escape``: ``reply``
    pastes them as they are (large stock pages are written this way, 10x faster than ``fill``)."""


def escape(text: str) -> str:
    """Character data escaped as lxml writes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def element(name: str, members: str) -> str:
    """``<name>members</name>``, or ``<name/>`` when empty, as lxml writes it."""
    return f"<{name}>{members}</{name}>" if members else f"<{name}/>"


def envelope(body_child: etree._Element) -> bytes:
    env = etree.Element(f"{{{NS_SOAP_ENV}}}Envelope", nsmap={"s": NS_SOAP_ENV})
    etree.SubElement(env, f"{{{NS_SOAP_ENV}}}Body").append(body_child)
    return etree.tostring(env, xml_declaration=False, encoding="utf-8")


def reply(svc: ServiceContract, operation: str, result: Any, *, void: bool = False) -> bytes:
    """``<OpResponse><OpResult>result</OpResult></OpResponse>``, the result written in the
    contract's shape (``ContractWriter``); no OpResult when ``void``."""
    if isinstance(result, Markup) and not void:
        return (
            f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><{operation}Response '
            f'xmlns="{NS_RETAIL}" xmlns:a="{NS_ARRAYS}" xmlns:i="{NS_XSI}">'
            f"{element(f'{operation}Result', result)}</{operation}Response></s:Body></s:Envelope>"
        ).encode()
    response = etree.Element(_R + f"{operation}Response", nsmap=_NSMAP)
    result_type = svc.operations[operation].result
    if not void and result_type is not None:
        element_ = etree.SubElement(response, _R + f"{operation}Result")
        if result is None:
            element_.set(f"{{{NS_XSI}}}nil", "true")
        else:
            ContractWriter(svc).write(element_, result_type, result)
    return envelope(response)


def cbr_fault(fault: SimFault, operation: str) -> bytes:
    """A Cegid fault: QName faultcode, en-US faultstring, and the detail the fault carries."""
    faultstring = f"Remote call failed: Code = ({fault.wp}) Message = ({fault.message})"
    if fault.detail == "CbpExceptionDetail":
        chain = [
            ("Cegid.Cbr.Remoting.RemoteCallException", f"Remote call failed: Code = ({fault.wp})"),
            ("Cegid.Retail.Services.ServiceException", f"An error occurred in {operation}"),
            ("Cegid.Retail.Business.BusinessException", fault.message),
        ]
        return soap_fault(f"a:{fault.code}", NS_FAULT, faultstring, chain)
    return soap_fault(f"a:{fault.code}", NS_FAULT, faultstring, business=fault)


def soap_fault(
    code: str,
    code_ns: str,
    faultstring: str,
    chain: list[tuple[str, str]] | None = None,
    *,
    business: SimFault | None = None,
) -> bytes:
    f = etree.Element(f"{{{NS_SOAP_ENV}}}Fault", nsmap={"s": NS_SOAP_ENV})
    etree.SubElement(f, "faultcode", nsmap={"a": code_ns}).text = code
    string = etree.SubElement(f, "faultstring")
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    string.text = faultstring
    if chain:
        detail = etree.SubElement(f, "detail")
        tag = f"{{{NS_FAULT}}}CbpExceptionDetail"
        outer = etree.SubElement(detail, tag, nsmap={None: NS_FAULT, "i": NS_XSI})
        _detail_chain(outer, chain, outer=True, tracking_id=str(uuid.uuid4()))
    elif business is not None:
        detail = etree.SubElement(f, "detail")
        tag = f"{{{NS_FAULT}}}{business.detail}"
        outer = etree.SubElement(detail, tag, nsmap={None: NS_FAULT, "i": NS_XSI})
        members = {
            "Cause": None,
            "Description": business.message,
            "Id": business.code,
            "Message": business.message,
            "SourceLocation": None,
            "ToDo": "Check the request data",
        }
        for key, value in members.items():
            _member(outer, key, value)
        if business.detail == "BusinessFaultDetail":
            _member(outer, "MemberNames", None)
    return envelope(f)


def _member(parent: etree._Element, name: str, value: str | None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{NS_FAULT}}}{name}")
    if value is None:
        child.set(f"{{{NS_XSI}}}nil", "true")
    else:
        child.text = value
    return child


def _detail_chain(
    el: etree._Element, chain: list[tuple[str, str]], *, outer: bool, tracking_id: str
) -> None:
    """``ExceptionDetail{HelpLink, InnerException, Message, StackTrace, TrackingId, Type}``, the
    outer one a ``CbpExceptionDetail`` (the same, then ``Id``, ``ToDo``)."""
    (kind, message), rest = chain[0], chain[1:]
    _member(el, "HelpLink", None)
    inner = _member(el, "InnerException", "" if rest else None)
    if rest:
        _detail_chain(inner, rest, outer=False, tracking_id="")
    _member(el, "Message", message)
    _member(el, "StackTrace", None)
    _member(el, "TrackingId", tracking_id or "00000000-0000-0000-0000-000000000000")
    _member(el, "Type", kind)
    if outer:
        _member(el, "Id", str(uuid.uuid4()))
        _member(el, "ToDo", "Check the request data")
