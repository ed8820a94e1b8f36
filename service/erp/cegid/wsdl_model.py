"""A read-only model of a SOAP 1.1 WSDL with inline XSD, enough to compare two contracts.

Parsed with lxml, hardened (no DTD, no entities, no network). What it understands is what WCF's
``?singleWsdl`` emits: ``wsdl:types`` holding several ``xs:schema`` (imports between them by
namespace), named and anonymous complex types with ``xs:sequence`` (also ``xs:all``/``xs:choice``),
``xs:complexContent/xs:extension`` (the base members come first, each in the namespace of the
schema that declares it), ``xs:element ref=``, simple types restricting a builtin (enumerations,
``xs:list``), and the binding's ``soap:operation/@soapAction``. ``xs:any`` and attributes are not
members (WCF reads elements only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_X = f"{{{XS}}}"
_W = f"{{{WSDL}}}"

QName = tuple[str, str]  # (namespace, local name)


class WsdlError(ValueError):
    """The document is not a WSDL this model can read."""


def qname_text(name: QName) -> str:
    namespace, local = name
    if namespace == XS:
        return f"xs:{local}"
    return local


@dataclass(slots=True)
class SimpleType:
    name: QName | None
    base: QName  # the builtin (or named simple type) it restricts; itself for a builtin
    enumeration: tuple[str, ...] = ()
    is_list: bool = False

    @property
    def label(self) -> str:
        return qname_text(self.name) if self.name else f"restriction of {qname_text(self.base)}"


@dataclass(slots=True)
class Member:
    name: QName
    type: ComplexType | SimpleType | None  # None: unresolved (reported as such)
    type_name: QName | None  # the named type, None when anonymous
    min_occurs: int
    max_occurs: int | None  # None: unbounded
    nillable: bool

    @property
    def local(self) -> str:
        return self.name[1]

    @property
    def repeated(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1

    @property
    def type_label(self) -> str:
        if self.type_name is not None:
            return qname_text(self.type_name)
        if isinstance(self.type, SimpleType):
            return self.type.label
        return "anonymous complex type" if self.type is not None else "unresolved type"


@dataclass(slots=True)
class ComplexType:
    name: QName | None
    members: list[Member] = field(default_factory=list)  # flattened: base members first
    bases: tuple[QName, ...] = ()  # the extension chain, nearest base first
    simple_content: SimpleType | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    soap_action: str | None
    input_element: QName | None
    output_element: QName | None


@dataclass(slots=True)
class Wsdl:
    """One WSDL: its global elements and types, and its bindings' operations."""

    elements: dict[QName, etree._Element]
    complex_types: dict[QName, etree._Element]
    simple_types: dict[QName, etree._Element]
    bindings: dict[str, dict[str, Operation]]  # binding local name -> operation name -> op
    _complex: dict[QName, ComplexType] = field(default_factory=dict)
    _simple: dict[QName, SimpleType] = field(default_factory=dict)

    # ------------------------------------------------------------------ elements and types
    def element(self, name: QName) -> Member | None:
        """A global element as a member (the wrapper of an operation's input or output)."""
        decl = self.elements.get(name)
        if decl is None:
            return None
        return self._member(decl, name[0], global_decl=True)

    def complex_type(self, name: QName) -> ComplexType | None:
        found = self._complex.get(name)
        if found is not None:
            return found
        decl = self.complex_types.get(name)
        if decl is None:
            return None
        found = ComplexType(name)
        self._complex[name] = found  # before filling it: types may be recursive
        self._fill_complex(found, decl)
        return found

    def simple_type(self, name: QName) -> SimpleType | None:
        if name[0] == XS:
            return SimpleType(name, name)
        found = self._simple.get(name)
        if found is not None:
            return found
        decl = self.simple_types.get(name)
        if decl is None:
            return None
        found = self._read_simple(decl, name)
        self._simple[name] = found
        return found

    def resolve(self, name: QName) -> ComplexType | SimpleType | None:
        return self.complex_type(name) or self.simple_type(name)

    def _target(self, decl: etree._Element) -> str:
        schema = self._schema(decl)
        return str(schema.get("targetNamespace", "")) if schema is not None else ""

    def _schema(self, decl: etree._Element) -> etree._Element | None:
        node: etree._Element | None = decl
        while node is not None and node.tag != f"{_X}schema":
            node = node.getparent()
        return node

    def _qualified(self, decl: etree._Element) -> bool:
        schema = self._schema(decl)
        form = decl.get("form")
        if form is not None:
            return form == "qualified"
        return schema is not None and schema.get("elementFormDefault") == "qualified"

    def _member(self, decl: etree._Element, namespace: str, *, global_decl: bool) -> Member:
        ref = decl.get("ref")
        if ref is not None:
            target = _qname(decl, ref)
            referenced = self.elements.get(target)
            if referenced is None:
                return Member(target, None, None, *_occurs(decl), False)
            member = self._member(referenced, target[0], global_decl=True)
            member.min_occurs, member.max_occurs = _occurs(decl)
            return member
        local = str(decl.get("name", ""))
        qualified = global_decl or self._qualified(decl)
        name = (namespace, local) if qualified else ("", local)
        type_attr = decl.get("type")
        type_name = _qname(decl, type_attr) if type_attr else None
        kind: ComplexType | SimpleType | None
        if type_name is not None:
            kind = self.resolve(type_name)
        else:
            inline_complex = decl.find(f"{_X}complexType")
            inline_simple = decl.find(f"{_X}simpleType")
            if inline_complex is not None:
                kind = ComplexType(None)
                self._fill_complex(kind, inline_complex)
            elif inline_simple is not None:
                kind = self._read_simple(inline_simple, None)
            else:
                kind = SimpleType((XS, "anyType"), (XS, "anyType"))  # xs:anyType
        min_occurs, max_occurs = (1, 1) if global_decl else _occurs(decl)
        nillable = decl.get("nillable") in ("true", "1")
        return Member(name, kind, type_name, min_occurs, max_occurs, nillable)

    def _fill_complex(self, target: ComplexType, decl: etree._Element) -> None:
        namespace = self._target(decl)
        content = decl.find(f"{_X}complexContent")
        if content is not None:
            derivation = content.find(f"{_X}extension")
            if derivation is None:
                derivation = content.find(f"{_X}restriction")
            if derivation is not None:
                base_name = _qname(derivation, str(derivation.get("base", "")))
                base = self.complex_type(base_name) if base_name[0] != XS else None
                if base is not None and derivation.tag == f"{_X}extension":
                    target.members.extend(base.members)
                    target.bases = (base_name, *base.bases)
                elif base is not None:
                    target.bases = (base_name, *base.bases)
                self._particles(target, derivation, namespace)
            return
        simple = decl.find(f"{_X}simpleContent")
        if simple is not None:
            derivation = simple.find(f"{_X}extension")
            if derivation is None:
                derivation = simple.find(f"{_X}restriction")
            if derivation is not None:
                base_name = _qname(derivation, str(derivation.get("base", "")))
                target.simple_content = self.simple_type(base_name) or SimpleType(None, base_name)
            return
        self._particles(target, decl, namespace)

    def _particles(self, target: ComplexType, parent: etree._Element, namespace: str) -> None:
        for child in parent:
            if child.tag == f"{_X}element":
                target.members.append(self._member(child, namespace, global_decl=False))
            elif child.tag in (f"{_X}sequence", f"{_X}all"):
                self._particles(target, child, namespace)
            elif child.tag == f"{_X}choice":
                before = len(target.members)
                self._particles(target, child, namespace)
                for member in target.members[before:]:
                    member.min_occurs = 0  # one of the choice at most

    def _read_simple(self, decl: etree._Element, name: QName | None) -> SimpleType:
        restriction = decl.find(f"{_X}restriction")
        if restriction is not None:
            base = _qname(restriction, str(restriction.get("base", "")))
            values = tuple(str(e.get("value", "")) for e in restriction.findall(f"{_X}enumeration"))
            return SimpleType(name, base, values)
        listed = decl.find(f"{_X}list")
        if listed is not None:
            item = listed.get("itemType")
            inner = listed.find(f"{_X}simpleType")
            found = self.simple_type(_qname(listed, item)) if item else None
            if found is None and inner is not None:
                found = self._read_simple(inner, None)
            base = found.base if found else (XS, "string")
            return SimpleType(name, base, found.enumeration if found else (), is_list=True)
        return SimpleType(name, (XS, "string"))


def _occurs(decl: etree._Element) -> tuple[int, int | None]:
    low = decl.get("minOccurs", "1")
    high = decl.get("maxOccurs", "1")
    try:
        return int(low), (None if high == "unbounded" else int(high))
    except ValueError as exc:
        raise WsdlError(f"bad minOccurs/maxOccurs on {decl.get('name')}") from exc


def _qname(node: etree._Element, text: str) -> QName:
    prefix, sep, local = text.partition(":")
    if not sep:
        prefix, local = "", text
    namespace = node.nsmap.get(prefix or None)
    if namespace is None and prefix:
        raise WsdlError(f"unknown prefix {prefix!r} in {text!r}")
    return (namespace or "", local)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_wsdl(content: bytes) -> Wsdl:
    """Read a WSDL document; raise ``WsdlError`` if it is not one (or carries a DTD)."""
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise WsdlError(f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise WsdlError("the document carries a DTD (refused)")
    if root.tag != f"{_W}definitions":
        raise WsdlError(f"not a WSDL 1.1 document (root {root.tag!r})")
    elements: dict[QName, etree._Element] = {}
    complex_types: dict[QName, etree._Element] = {}
    simple_types: dict[QName, etree._Element] = {}
    for schema in root.iterfind(f"{_W}types/{_X}schema"):
        namespace = str(schema.get("targetNamespace", ""))
        for child in schema:
            name = child.get("name")
            if name is None:
                continue
            if child.tag == f"{_X}element":
                elements[(namespace, name)] = child
            elif child.tag == f"{_X}complexType":
                complex_types[(namespace, name)] = child
            elif child.tag == f"{_X}simpleType":
                simple_types[(namespace, name)] = child
    return Wsdl(elements, complex_types, simple_types, _bindings(root))


def _bindings(root: etree._Element) -> dict[str, dict[str, Operation]]:
    """Every binding with a SOAP 1.1 transport, its operations resolved to wrapper elements."""
    messages: dict[str, QName | None] = {}
    for message in root.iterfind(f"{_W}message"):
        part = message.find(f"{_W}part")
        element = part.get("element") if part is not None else None
        found = _qname(part, element) if part is not None and element else None
        messages[str(message.get("name"))] = found
    port_types: dict[str, dict[str, tuple[QName | None, QName | None]]] = {}
    for port_type in root.iterfind(f"{_W}portType"):
        port_types[str(port_type.get("name"))] = {
            str(op.get("name")): (
                _message_element(op.find(f"{_W}input"), messages),
                _message_element(op.find(f"{_W}output"), messages),
            )
            for op in port_type.iterfind(f"{_W}operation")
        }
    bindings: dict[str, dict[str, Operation]] = {}
    for binding in root.iterfind(f"{_W}binding"):
        if binding.find(f"{{{SOAP}}}binding") is None:
            continue  # SOAP 1.2 or another protocol: not what omnistock speaks
        _, port_type_name = _qname(binding, str(binding.get("type", "")))
        wrappers = port_types.get(port_type_name, {})
        ops: dict[str, Operation] = {}
        for op in binding.iterfind(f"{_W}operation"):
            name = str(op.get("name"))
            soap_op = op.find(f"{{{SOAP}}}operation")
            action = soap_op.get("soapAction") if soap_op is not None else None
            input_element, output_element = wrappers.get(name, (None, None))
            ops[name] = Operation(name, action, input_element, output_element)
        bindings[str(binding.get("name"))] = ops
    return bindings


def _message_element(
    node: etree._Element | None, messages: dict[str, QName | None]
) -> QName | None:
    if node is None or node.get("message") is None:
        return None
    _, local = _qname(node, str(node.get("message")))
    return messages.get(local)
