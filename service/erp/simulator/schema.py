"""The simulator's view of the bundled WSDLs: served as-is, and used to validate requests.

WCF's DataContractSerializer silently drops members that arrive out of order. Silently dropping
would hide client bugs, so the simulator is stricter: every request body is validated against the
WSDL's inline XSD (member names, namespaces, order, types) and a mismatch is answered with the
``a:DeserializationFailed`` fault WCF raises for bodies it cannot read at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from lxml import etree

from service.erp.wsdl import NS_TEMPURI, SERVICES, ServiceInfo

_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


class _MemoryResolver(etree.Resolver):
    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self._documents = documents

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> Any:
        document = self._documents.get(system_url or "")
        if document is None:
            return None
        return self.resolve_string(document, context)


def _validator(wsdl: etree._Element) -> etree.XMLSchema:
    """Compile the inline schemas of a WSDL; imports are resolved from memory by namespace."""
    schemas = wsdl.findall(f"{{{_WSDL}}}types/{{{_XS}}}schema")
    urls = {str(s.get("targetNamespace")): f"mem:/{i}.xsd" for i, s in enumerate(schemas)}
    documents: dict[str, bytes] = {}
    for schema in schemas:
        copy = etree.fromstring(etree.tostring(schema))
        for imp in copy.findall(f"{{{_XS}}}import"):
            imp.set("schemaLocation", urls[str(imp.get("namespace"))])
        documents[urls[str(schema.get("targetNamespace"))]] = etree.tostring(copy)
    main = etree.Element(f"{{{_XS}}}schema", nsmap={"xs": _XS})
    main.set("targetNamespace", "urn:omnistock:simulator")
    for namespace, url in urls.items():
        etree.SubElement(main, f"{{{_XS}}}import", namespace=namespace, schemaLocation=url)
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_MemoryResolver(documents))
    return etree.XMLSchema(etree.fromstring(etree.tostring(main), parser, base_url="mem:/main.xsd"))


@dataclass(frozen=True, slots=True)
class ServiceSchema:
    info: ServiceInfo
    wsdl_text: str
    actions: dict[str, str]  # SOAPAction -> operation
    validator: etree.XMLSchema

    def wsdl_for(self, address: str, text: str | None = None) -> bytes:
        """The WSDL (or ``text``, a replacement) with its soap:address pointing at ``address``."""
        default = f"http://localhost/Y2/{self.info.name}.svc"
        served = self.wsdl_text if text is None else text
        return served.replace(f'location="{default}"', f'location="{address}"').encode()

    def errors(self, element: etree._Element) -> str:
        """'' when ``element`` (an operation wrapper) is valid, else the first schema error."""
        if self.validator.validate(element):
            return ""
        error = self.validator.error_log.last_error
        return str(error.message) if error is not None else "invalid"


def _load(info: ServiceInfo) -> ServiceSchema:
    text = info.wsdl_path().read_text(encoding="utf-8")
    wsdl = etree.fromstring(text.encode(), etree.XMLParser(no_network=True, resolve_entities=False))
    binding = wsdl.find(f"{{{_WSDL}}}binding[@name='BasicHttpBinding_{info.contract}']")
    if binding is None:
        raise ValueError(f"{info.name}: no binding {info.binding} in {NS_TEMPURI}")
    actions: dict[str, str] = {}
    for op in binding.findall(f"{{{_WSDL}}}operation"):
        soap_op = op.find(f"{{{_SOAP}}}operation")
        if soap_op is not None:
            actions[str(soap_op.get("soapAction"))] = str(op.get("name"))
    return ServiceSchema(info, text, actions, _validator(wsdl))


@functools.cache
def load_schemas() -> dict[str, ServiceSchema]:
    """Every bundled service by name, parsed and compiled once per process."""
    return {name: _load(info) for name, info in SERVICES.items()}
