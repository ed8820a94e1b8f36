"""The WSDL model of ``erp check`` on the constructs WCF's ``?singleWsdl`` uses."""

from __future__ import annotations

import pytest

from service.erp.cegid.wsdl_model import XS, ComplexType, SimpleType, WsdlError, parse_wsdl

A = "urn:a"
B = "urn:b"
DOC = f"""<?xml version="1.0"?>
<wsdl:definitions targetNamespace="http://tempuri.org/" xmlns:tns="http://tempuri.org/"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:xs="{XS}">
  <wsdl:types>
    <xs:schema elementFormDefault="qualified" targetNamespace="{B}" xmlns:b="{B}">
      <xs:complexType name="Base">
        <xs:annotation><xs:appinfo>x</xs:appinfo></xs:annotation>
        <xs:sequence><xs:element minOccurs="0" name="Zed" type="xs:string"/></xs:sequence>
      </xs:complexType>
      <xs:simpleType name="Flags">
        <xs:list><xs:simpleType><xs:restriction base="xs:string">
          <xs:enumeration value="One"/><xs:enumeration value="Two"/>
        </xs:restriction></xs:simpleType></xs:list>
      </xs:simpleType>
    </xs:schema>
    <xs:schema elementFormDefault="qualified" targetNamespace="{A}" xmlns:a="{A}" xmlns:b="{B}">
      <xs:import namespace="{B}"/>
      <xs:element name="Shared" type="xs:int"/>
      <xs:complexType name="Derived">
        <xs:complexContent mixed="false"><xs:extension base="b:Base"><xs:sequence>
          <xs:element minOccurs="0" name="Alpha" nillable="true" type="a:Derived"/>
          <xs:choice><xs:element name="Left" type="xs:string"/><xs:element name="Right"
              type="xs:string"/></xs:choice>
          <xs:element ref="a:Shared" minOccurs="0"/>
          <xs:element minOccurs="0" maxOccurs="unbounded" name="Many" type="b:Flags"/>
          <xs:element name="Local" form="unqualified" type="xs:string"/>
          <xs:element name="Money"><xs:complexType><xs:simpleContent>
            <xs:extension base="xs:decimal"/></xs:simpleContent></xs:complexType></xs:element>
        </xs:sequence></xs:extension></xs:complexContent>
      </xs:complexType>
      <xs:element name="Op"><xs:complexType><xs:sequence>
        <xs:element minOccurs="0" name="request" type="a:Derived"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="OpResponse"><xs:complexType><xs:sequence/></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="In"><wsdl:part name="parameters" element="a:Op" xmlns:a="{A}"/></wsdl:message>
  <wsdl:message name="Out"><wsdl:part name="parameters" element="a:OpResponse"
      xmlns:a="{A}"/></wsdl:message>
  <wsdl:portType name="IThing"><wsdl:operation name="Op">
    <wsdl:input message="tns:In"/><wsdl:output message="tns:Out"/>
  </wsdl:operation></wsdl:portType>
  <wsdl:binding name="BasicHttpBinding_IThing" type="tns:IThing">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Op">
      <soap:operation soapAction="urn:op" style="document"/>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="WSHttpBinding_IThing" type="tns:IThing">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  </wsdl:binding>
</wsdl:definitions>"""


def test_wcf_constructs_are_read() -> None:
    wsdl = parse_wsdl(DOC.encode())
    assert list(wsdl.bindings) == ["BasicHttpBinding_IThing"]  # SOAP 1.2 is not ours
    op = wsdl.bindings["BasicHttpBinding_IThing"]["Op"]
    assert (op.soap_action, op.input_element, op.output_element) == (
        "urn:op",
        (A, "Op"),
        (A, "OpResponse"),
    )
    wrapper = wsdl.element((A, "Op"))
    assert wrapper is not None and isinstance(wrapper.type, ComplexType)
    (request,) = wrapper.type.members
    derived = request.type
    assert isinstance(derived, ComplexType) and derived.bases == ((B, "Base"),)
    members = {m.local: m for m in derived.members}
    assert [m.name for m in derived.members] == [
        (B, "Zed"),  # the base's member first, in the base's namespace
        (A, "Alpha"),
        (A, "Left"),
        (A, "Right"),
        (A, "Shared"),
        (A, "Many"),
        ("", "Local"),
        (A, "Money"),
    ]
    assert members["Alpha"].type is derived  # recursive types are one object
    assert (members["Left"].min_occurs, members["Right"].min_occurs) == (0, 0)  # a choice
    assert members["Shared"].type == SimpleType((XS, "int"), (XS, "int"))
    many = members["Many"]
    assert many.repeated and isinstance(many.type, SimpleType)
    assert many.type.is_list and many.type.enumeration == ("One", "Two")
    money = members["Money"].type
    assert isinstance(money, ComplexType) and money.simple_content is not None
    assert money.simple_content.base == (XS, "decimal")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<not xml", "not well-formed"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "DTD"),
        (b"<definitions/>", "not a WSDL 1.1 document"),
    ],
)
def test_what_is_not_a_wsdl_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(WsdlError, match=message):
        parse_wsdl(content)
