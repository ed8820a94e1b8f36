"""Reading Cegid replies by element name, as WCF writes them and as a real tenant may vary them.

WCF's DataContractSerializer writes members of a type in contract order, base-class members
first, every member present (null ones as ``i:nil="true"``, unless the contract omits defaults);
a tenant's own contract version may add members or place them elsewhere. ``El`` finds a member by
its local name among an element's children, whatever their position, namespace or neighbours:
unknown members are skipped, a missing or nil member reads as absent ("" for text, None for an
element, [] for a list).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from service.erp.wsdl import NS_SOAP_ENV, NS_XSI

_NIL = f"{{{NS_XSI}}}nil"
_BODY = f"{{{NS_SOAP_ENV}}}Body"


def local(tag: object) -> str:
    """The local name of an element tag ('' for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def is_nil(el: etree._Element) -> bool:
    return el.get(_NIL) in ("true", "1")


class El:
    """Read access to one reply element by member local names."""

    __slots__ = ("el",)

    def __init__(self, el: etree._Element) -> None:
        self.el = el

    def __repr__(self) -> str:
        return f"El({local(self.el.tag)})"

    def _find(self, name: str) -> Iterator[etree._Element]:
        for child in self.el:
            tag = child.tag
            if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):
                yield child

    def child(self, name: str) -> El | None:
        """The first member called ``name``; None when missing or nil."""
        for found in self._find(name):
            return None if is_nil(found) else El(found)
        return None

    def path(self, *names: str) -> El | None:
        """``child(a).child(b)...``, None as soon as one is missing."""
        node: El | None = self
        for name in names:
            if node is None:
                return None
            node = node.child(name)
        return node

    def children(self, name: str) -> list[El]:
        """Every non-nil member called ``name`` (the items of an array wrapper)."""
        return [El(found) for found in self._find(name) if not is_nil(found)]

    def items(self, wrapper: str, item: str) -> list[El]:
        """The ``item`` elements of the ``wrapper`` member; [] when the wrapper is missing."""
        found = self.child(wrapper)
        return [] if found is None else found.children(item)

    @property
    def value(self) -> str:
        """This element's own text, stripped ('' when nil or empty)."""
        return "" if is_nil(self.el) else (self.el.text or "").strip()

    def text(self, *path: str) -> str:
        """The stripped text of the member at ``path``; '' when missing, nil or empty."""
        found = self.path(*path)
        return "" if found is None else found.value


def result(root: etree._Element, operation: str) -> El | None:
    """``Body/{operation}Response/{operation}Result`` of a reply envelope; None when the ERP
    answered no result (nil, missing: a void operation or "nothing found")."""
    body = root.find(_BODY)
    if body is None:
        return None
    response = El(body).child(f"{operation}Response")
    return None if response is None else response.child(f"{operation}Result")
