# ruff: noqa: E501 - the lines of the WSDL it writes are longer than code lines
"""Write the bundled WSDLs from ``contract.txt``: ``python -m service.erp.wsdl.build``.

Each WSDL is SOAP 1.1 document/literal wrapped as WCF's basicHttpBinding publishes it: inline XSD
in the Retail, fault, Arrays and Serialization namespaces; derived types as ``xs:extension`` of
their base (so base members come first on the wire); every member ``minOccurs="0"``; reference
types nillable; every operation declaring the three public fault details.
"""

from __future__ import annotations

import sys
from xml.sax.saxutils import quoteattr

from service.erp.wsdl import (
    BASE_CONTRACT,
    NS_ARRAYS,
    NS_FAULT,
    NS_RETAIL,
    NS_TEMPURI,
    WSDL_DIR,
)
from service.erp.wsdl.contract import SIMPLE, Member, ServiceContract, TypeDef, contracts

NS_SERIALIZATION = "http://schemas.microsoft.com/2003/10/Serialization/"
FAULT_DETAILS = ("CbpExceptionDetail", "BusinessFaultDetail", "CbpFaultDetail")
_XS_TYPE = {
    "string": "xs:string",
    "int": "xs:int",
    "decimal": "xs:decimal",
    "boolean": "xs:boolean",
    "dateTime": "xs:dateTime",
    "guid": "ser:guid",
}
_GUID = r"[\da-fA-F]{8}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{12}"


def _ref(svc: ServiceContract | None, name: str) -> str:
    if name in SIMPLE:
        return _XS_TYPE[name]
    if name == "ArrayOfstring":
        return "arr:ArrayOfstring"
    if svc is None or name in _fault_names():
        return f"f:{name}"
    return f"q:{name}"


def _fault_names() -> set[str]:
    from service.erp.wsdl.contract import fault_types

    return set(fault_types())


def _element(svc: ServiceContract | None, m: Member, *, many: bool = False) -> str:
    occurs = ' maxOccurs="unbounded"' if many else ""
    nillable = m.nillable if svc is None else svc.nillable(m)
    nil = ' nillable="true"' if nillable else ""
    return f'<xs:element minOccurs="0"{occurs} name="{m.name}"{nil} type="{_ref(svc, m.type)}"/>'


def _complex(svc: ServiceContract | None, t: TypeDef, indent: str) -> list[str]:
    i2, i3, i4 = indent + "  ", indent + "    ", indent + "      "
    if t.kind == "enum":
        lines = [
            f'{indent}<xs:simpleType name="{t.name}">',
            f'{i2}<xs:restriction base="xs:string">',
        ]
        lines += [f"{i3}<xs:enumeration value={quoteattr(v)}/>" for v in t.values]
        return [*lines, f"{i2}</xs:restriction>", f"{indent}</xs:simpleType>"]
    lines = [f'{indent}<xs:complexType name="{t.name}">']
    if t.kind == "array":
        assert t.item is not None
        lines += [
            f"{i2}<xs:sequence>",
            i3 + _element(svc, t.item, many=True),
            f"{i2}</xs:sequence>",
        ]
    elif t.base:
        lines += [
            f'{i2}<xs:complexContent mixed="false">',
            f'{i3}<xs:extension base="{_ref(svc, t.base)}">',
            f"{i4}<xs:sequence>",
            *(i4 + "  " + _element(svc, m) for m in t.members),
            f"{i4}</xs:sequence>",
            f"{i3}</xs:extension>",
            f"{i2}</xs:complexContent>",
        ]
    else:
        lines += [
            f"{i2}<xs:sequence>",
            *(i3 + _element(svc, m) for m in t.members),
            f"{i2}</xs:sequence>",
        ]
    return [*lines, f"{indent}</xs:complexType>"]


def _wrapper(svc: ServiceContract, name: str, members: list[Member]) -> list[str]:
    body = [" " * 12 + _element(svc, m) for m in members]
    return [
        f'      <xs:element name="{name}">',
        "        <xs:complexType>",
        "          <xs:sequence>" if body else "          <xs:sequence/>",
        *body,
        *(["          </xs:sequence>"] if body else []),
        "        </xs:complexType>",
        "      </xs:element>",
    ]


def render(svc: ServiceContract) -> str:
    from service.erp.wsdl.contract import fault_types

    faults = fault_types()
    ours = [n for n in svc.referenced() if n != "ArrayOfstring"]
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<!-- {svc.name}: written by `python -m service.erp.wsdl.build` from contract.txt,",
        "     itself traced to public evidence of the Cegid Retail Y2 contract:",
        *(f"       {s}" for s in svc.sources),
        "     Not a Cegid file. SOAP 1.1, document/literal wrapped. -->",
        f'<wsdl:definitions name="{svc.name}" targetNamespace="{NS_TEMPURI}"',
        '    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"',
        '    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"',
        '    xmlns:xs="http://www.w3.org/2001/XMLSchema"',
        f'    xmlns:tns="{NS_TEMPURI}"',
        f'    xmlns:q="{NS_RETAIL}"',
        f'    xmlns:f="{NS_FAULT}"',
        f'    xmlns:arr="{NS_ARRAYS}"',
        f'    xmlns:ser="{NS_SERIALIZATION}">',
        "  <wsdl:types>",
        f'    <xs:schema elementFormDefault="qualified" targetNamespace="{NS_SERIALIZATION}">',
        '      <xs:simpleType name="guid">',
        '        <xs:restriction base="xs:string">',
        f'          <xs:pattern value="{_GUID}"/>',
        "        </xs:restriction>",
        "      </xs:simpleType>",
        "    </xs:schema>",
        f'    <xs:schema elementFormDefault="qualified" targetNamespace="{NS_ARRAYS}">',
        '      <xs:complexType name="ArrayOfstring">',
        "        <xs:sequence>",
        '          <xs:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="xs:string"/>',
        "        </xs:sequence>",
        "      </xs:complexType>",
        "    </xs:schema>",
        f'    <xs:schema elementFormDefault="qualified" targetNamespace="{NS_FAULT}">',
        f'      <xs:import namespace="{NS_ARRAYS}"/>',
        f'      <xs:import namespace="{NS_SERIALIZATION}"/>',
    ]
    for t in faults.values():
        out += _complex(None, t, "      ")
    out += [f'      <xs:element name="{n}" nillable="true" type="f:{n}"/>' for n in FAULT_DETAILS]
    out += [
        "    </xs:schema>",
        f'    <xs:schema elementFormDefault="qualified" targetNamespace="{NS_RETAIL}">',
        f'      <xs:import namespace="{NS_ARRAYS}"/>',
        f'      <xs:import namespace="{NS_SERIALIZATION}"/>',
    ]
    for name in ours:
        if name not in faults:
            out += _complex(svc, svc.type(name), "      ")
    for op in svc.operations.values():
        out += _wrapper(svc, op.name, list(op.params))
        result = [Member(f"{op.name}Result", op.result)] if op.result else []
        out += _wrapper(svc, f"{op.name}Response", result)
    out += ["    </xs:schema>", "  </wsdl:types>"]
    contract = svc.contract
    for op in svc.operations.values():
        for io, suffix in (("Input", ""), ("Output", "Response")):
            out += [
                f'  <wsdl:message name="{contract}_{op.name}_{io}Message">',
                f'    <wsdl:part name="parameters" element="q:{op.name}{suffix}"/>',
                "  </wsdl:message>",
            ]
        for detail in FAULT_DETAILS:
            out += [
                f'  <wsdl:message name="{contract}_{op.name}_{detail}Fault_FaultMessage">',
                f'    <wsdl:part name="detail" element="f:{detail}"/>',
                "  </wsdl:message>",
            ]
    out.append(f'  <wsdl:portType name="{contract}">')
    for op in svc.operations.values():
        out += [
            f'    <wsdl:operation name="{op.name}">',
            f'      <wsdl:input message="tns:{contract}_{op.name}_InputMessage"/>',
            f'      <wsdl:output message="tns:{contract}_{op.name}_OutputMessage"/>',
            *(
                f'      <wsdl:fault name="{d}Fault" message="tns:{contract}_{op.name}_{d}Fault_FaultMessage"/>'
                for d in FAULT_DETAILS
            ),
            "    </wsdl:operation>",
        ]
    out += [
        "  </wsdl:portType>",
        f'  <wsdl:binding name="BasicHttpBinding_{contract}" type="tns:{contract}">',
        '    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>',
    ]
    for op in svc.operations.values():
        action_contract = BASE_CONTRACT if op.name == "HelloWorld" else contract
        out += [
            f'    <wsdl:operation name="{op.name}">',
            f'      <soap:operation soapAction="{NS_RETAIL}/{action_contract}/{op.name}" style="document"/>',
            '      <wsdl:input><soap:body use="literal"/></wsdl:input>',
            '      <wsdl:output><soap:body use="literal"/></wsdl:output>',
            *(
                f'      <wsdl:fault name="{d}Fault"><soap:fault name="{d}Fault" use="literal"/></wsdl:fault>'
                for d in FAULT_DETAILS
            ),
            "    </wsdl:operation>",
        ]
    out += [
        "  </wsdl:binding>",
        f'  <wsdl:service name="{svc.name}">',
        f'    <wsdl:port name="BasicHttpBinding_{contract}" binding="tns:BasicHttpBinding_{contract}">',
        f'      <soap:address location="http://localhost/Y2/{svc.name}.svc"/>',
        "    </wsdl:port>",
        "  </wsdl:service>",
        "</wsdl:definitions>",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every WSDL; ``--check``: exit 1 when a bundled file differs from contract.txt."""
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for svc in contracts().values():
        path = WSDL_DIR / f"{svc.name}.wsdl"
        text = render(svc)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.name)
        if not check:
            path.write_text(text, encoding="utf-8")
    if stale:
        verb = "stale" if check else "written"
        print(f"{verb}: {', '.join(stale)}", file=sys.stderr)
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
