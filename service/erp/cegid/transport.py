"""HTTP for the Cegid adapter: httpx clients, a zeep transport, and the one parse of each reply.

The transport only sends: ``post_xml`` hands the raw httpx reply back (zeep runs with
``raw_response``). ``ServiceHandle.call`` then runs ``check_reply`` once per reply, which parses
it with a strict, hardened parser (no DTD, no entities, no network, no huge trees; zeep's own
parser would ``recover`` a truncated reply into a partial result) and classifies it by status:

- 401/403 -> ``ErpAuthError``;
- 200 not well-formed, or with a DTD (XML bomb, external entity) -> ``ErpProtocolError``;
- non-200 carrying a SOAP Fault -> returned; ``faults.fault_error`` makes it an ``ErpError``;
- other 5xx, 408, 429 -> ``ErpUnavailable`` (retryable); 503 -> ``RequestNotSent``;
- anything else -> ``ErpProtocolError``.

The tree it returns is the only one built: the operation's reader (``mapping`` by element name,
or a fast stock reader in ``readers``) reads it.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from lxml import etree
from zeep.transports import AsyncTransport
from zeep.wsdl.utils import etree_to_string

from service.erp.cegid.config import CegidConfig
from service.erp.port import ErpAuthError, ErpNotSent, ErpProtocolError, ErpUnavailable
from service.erp.wsdl import NS_SOAP_ENV

_ENVELOPE = f"{{{NS_SOAP_ENV}}}Envelope"
_FAULT_PATH = f"{{{NS_SOAP_ENV}}}Body/{{{NS_SOAP_ENV}}}Fault"
_RETRYABLE_STATUS = frozenset({408, 429})


class RequestNotSent(ErpNotSent):
    """The ERP did not process the request (connection refused, 503): safe to send again even
    for operations that are not idempotent."""


_parsers = threading.local()  # an lxml parser serialises its users: one per thread


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,  # as zeep's own parser: comments are not members,
            remove_pis=True,  # nor processing instructions (which SOAP 1.1 forbids anyway)
        )
        _parsers.parser = parser
    return parser


def parse_strict(content: bytes) -> etree._Element:
    """Parse a whole reply; no recovery, no DTD (raises ``XMLSyntaxError``/``ErpProtocolError``)."""
    root = etree.fromstring(content, parser=_parser())
    if root.getroottree().docinfo.doctype:
        raise ErpProtocolError("reply carries a DTD (entities are refused)")
    return root


def is_fault(root: etree._Element) -> bool:
    return root.find(_FAULT_PATH) is not None


def check_reply(status: int, content: bytes) -> etree._Element:
    """Raise the ``ErpError`` a reply deserves, else return its parsed envelope (a normal reply,
    or a SOAP fault for zeep to raise). This is the only parse of a reply."""
    if status in (401, 403):
        raise ErpAuthError(f"HTTP {status}: the ERP refused our credentials")
    try:
        blank = not content or content.isspace()  # content.strip() would copy a large reply
        root = None if blank else parse_strict(content)
    except (etree.XMLSyntaxError, ErpProtocolError) as exc:
        if status >= 500 or status in _RETRYABLE_STATUS:
            raise _unavailable(status) from exc
        raise ErpProtocolError(f"HTTP {status}: reply is not acceptable XML: {exc}") from exc
    if root is None or root.tag != _ENVELOPE:
        if status == 200:
            raise ErpProtocolError("HTTP 200 without a SOAP envelope")
    elif status == 200 or is_fault(root):
        return root
    if status >= 500 or status in _RETRYABLE_STATUS:
        raise _unavailable(status)
    raise ErpProtocolError(f"unexpected HTTP {status}")


def _unavailable(status: int) -> ErpUnavailable:
    if status == 503:
        return RequestNotSent("HTTP 503: service unavailable")
    return ErpUnavailable(f"HTTP {status} without a SOAP fault")


class CegidTransport(AsyncTransport):
    """zeep's httpx transport; replies come back raw, for ``check_reply`` (see module doc)."""

    def __init__(self, client: httpx.AsyncClient, wsdl_client: httpx.Client) -> None:
        super().__init__(client=client, wsdl_client=wsdl_client)

    async def post_xml(self, address: str, envelope: Any, headers: dict[str, str]) -> Any:
        """Send the envelope; return the ``httpx.Response`` as is (not parsed, not copied)."""
        return await self.post(address, etree_to_string(envelope), headers)

    async def aclose(self) -> None:
        await self.client.aclose()
        self.wsdl_client.close()


def build_transport(config: CegidConfig) -> CegidTransport:
    auth = httpx.BasicAuth(config.login, config.password)
    timeout = httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s)
    limits = httpx.Limits(
        max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency
    )
    client = httpx.AsyncClient(auth=auth, timeout=timeout, limits=limits, follow_redirects=False)
    wsdl_client = httpx.Client(auth=auth, timeout=timeout, follow_redirects=False)
    return CegidTransport(client, wsdl_client)
