"""XML in and out for the simulator: safe parsing, reading requests, writing Cegid-shaped replies.

Replies are written like WCF writes them: ``<OpResponse xmlns="http://www.cegid.fr/Retail/1.0">
<OpResult>`` with unprefixed children, members of each type in alphabetical order (the order of
our WSDLs), Arrays-namespace ``a:string`` items, ``0001-01-01T00:00:00`` for null dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from service.erp.wsdl import NS_ARRAYS, NS_FAULT, NS_RETAIL, NS_SOAP_ENV, NS_XSI

NULL_DATE = datetime(1, 1, 1)
NIL = object()  # a member written as xsi:nil="true"
_R = f"{{{NS_RETAIL}}}"
_NSMAP = {None: NS_RETAIL, "a": NS_ARRAYS, "i": NS_XSI}


class BadXml(ValueError):
    """The request is not well-formed XML, or carries a DTD."""


class SimFault(Exception):
    """A business fault, answered as Cegid does: innermost ``message`` is the useful part."""

    def __init__(self, message: str, *, code: str = "CBR_001_0003", wp: str = "WP006") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.wp = wp


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


def fill(parent: etree._Element, value: Any) -> None:
    """Write ``value`` into ``parent``: mappings become members in alphabetical order, lists
    under a key become repeated elements, ``None`` members are left out."""
    if value is NIL:
        parent.set(f"{{{NS_XSI}}}nil", "true")
    elif isinstance(value, Mapping):
        for key in sorted(value, key=_local):
            member = value[key]
            if member is None:
                continue
            for item in member if isinstance(member, list) else [member]:
                fill(etree.SubElement(parent, _tag(key)), item)
    elif value is not None:
        parent.text = _text(value)


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


def reply(operation: str, result: Any, *, void: bool = False) -> bytes:
    """``<OpResponse><OpResult>result</OpResult></OpResponse>`` (no OpResult when ``void``)."""
    if isinstance(result, Markup) and not void:
        return (
            f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body><{operation}Response '
            f'xmlns="{NS_RETAIL}" xmlns:a="{NS_ARRAYS}" xmlns:i="{NS_XSI}">'
            f"{element(f'{operation}Result', result)}</{operation}Response></s:Body></s:Envelope>"
        ).encode()
    response = etree.Element(_R + f"{operation}Response", nsmap=_NSMAP)
    if not void:
        fill(etree.SubElement(response, _R + f"{operation}Result"), result)
    return envelope(response)


def cbr_fault(fault: SimFault, operation: str) -> bytes:
    """A Cegid fault: QName faultcode, en-US faultstring, CbpExceptionDetail chain."""
    chain = [
        ("Cegid.Cbr.Remoting.RemoteCallException", f"Remote call failed: Code = ({fault.wp})"),
        ("Cegid.Retail.Services.ServiceException", f"An error occurred in {operation}"),
        ("Cegid.Retail.Business.BusinessException", fault.message),
    ]
    faultstring = f"Remote call failed: Code = ({fault.wp}) Message = ({fault.message})"
    return soap_fault(f"a:{fault.code}", NS_FAULT, faultstring, chain)


def soap_fault(
    code: str, code_ns: str, faultstring: str, chain: list[tuple[str, str]] | None = None
) -> bytes:
    f = etree.Element(f"{{{NS_SOAP_ENV}}}Fault", nsmap={"s": NS_SOAP_ENV})
    etree.SubElement(f, "faultcode", nsmap={"a": code_ns}).text = code
    string = etree.SubElement(f, "faultstring")
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    string.text = faultstring
    if chain:
        detail = etree.SubElement(f, "detail")
        tag = f"{{{NS_FAULT}}}CbpExceptionDetail"
        outer = etree.SubElement(detail, tag, nsmap={None: NS_FAULT})
        _detail_chain(outer, chain, tracking_id=str(uuid.uuid4()))
    return envelope(f)


def _detail_chain(el: etree._Element, chain: list[tuple[str, str]], tracking_id: str) -> None:
    (kind, message), rest = chain[0], chain[1:]
    members: dict[str, str] = {"Id": str(uuid.uuid4()), "Message": message, "Type": kind}
    members["ToDo"] = "" if rest else "Check the request data"
    if tracking_id:
        members["TrackingId"] = tracking_id
    if rest:
        members["InnerException"] = ""
    for key in sorted(members):
        child = etree.SubElement(el, f"{{{NS_FAULT}}}{key}")
        if key == "InnerException":
            _detail_chain(child, rest, "")
        else:
            child.text = members[key]
