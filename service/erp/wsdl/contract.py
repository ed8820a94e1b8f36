"""The Cegid Y2 contract as data: ``contract.txt`` parsed into services, types and operations.

One source for three readers: ``build`` writes the bundled WSDLs from it, the simulator writes
its replies member by member in contract order (base members first, every member present, null
ones as ``i:nil``, as WCF does), and the docs table names what each type holds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

CONTRACT_FILE = Path(__file__).resolve().parent / "contract.txt"
SIMPLE = frozenset({"string", "int", "decimal", "boolean", "dateTime", "guid"})
NILLABLE_SIMPLE = frozenset({"string"})  # .NET reference types; value types are never nil


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    type: str

    @property
    def simple(self) -> bool:
        return self.type in SIMPLE

    @property
    def nillable(self) -> bool:
        """Strings, complex types and arrays (.NET reference types); not simple values or enums,
        which ``ServiceContract.nillable`` tells apart."""
        return not self.simple or self.type in NILLABLE_SIMPLE


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A complex type (``members``), an enumeration (``values``) or an array (``item``)."""

    name: str
    kind: str  # "type" | "enum" | "array"
    base: str | None = None
    members: tuple[Member, ...] = ()
    values: tuple[str, ...] = ()
    item: Member | None = None  # arrays: the repeated element's name and type


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    params: tuple[Member, ...]
    result: str | None  # None: a void operation (empty response element)


@dataclass(slots=True)
class ServiceContract:
    name: str
    contract: str
    context_param: str
    sources: list[str] = field(default_factory=list)
    types: dict[str, TypeDef] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)

    def type(self, name: str) -> TypeDef:
        """The named type: declared here, a fault type, or an implicit ``ArrayOfX``."""
        found = self.types.get(name) or fault_types().get(name)
        if found is not None:
            return found
        if name.startswith("ArrayOf"):
            item = name.removeprefix("ArrayOf")
            return TypeDef(name, "array", item=Member(item, item))
        raise KeyError(f"{self.name}: unknown type {name}")

    def nillable(self, member: Member) -> bool:
        """Whether WCF may send ``member`` as ``i:nil``: reference types only."""
        if member.simple:
            return member.nillable
        return self.type(member.type).kind != "enum"

    def members(self, name: str) -> list[Member]:
        """Every member of a complex type in wire order: its base's members first."""
        t = self.type(name)
        inherited = self.members(t.base) if t.base else []
        return inherited + list(t.members)

    def referenced(self) -> list[str]:
        """Every non-simple type name the operations reach, in a stable order."""
        seen: dict[str, None] = {}

        def visit(name: str) -> None:
            if name in SIMPLE or name in seen:
                return
            seen[name] = None
            t = self.type(name)
            if t.base:
                visit(t.base)
            for m in t.members:
                visit(m.type)
            if t.item:
                visit(t.item.type)

        visit("RetailContext")
        for op in self.operations.values():
            for p in op.params:
                visit(p.type)
            if op.result:
                visit(op.result)
        return list(seen)


_MEMBER = re.compile(r"^(\w+) (\w+)$")


def _members(text: str) -> tuple[Member, ...]:
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _MEMBER.match(part)
        if match is None:
            raise ValueError(f"contract.txt: bad member {part!r}")
        found.append(Member(match.group(1), match.group(2)))
    return tuple(found)


def parse(text: str) -> tuple[dict[str, TypeDef], dict[str, ServiceContract]]:
    faults: dict[str, TypeDef] = {}
    services: dict[str, ServiceContract] = {}
    current: ServiceContract | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# source:") and current is not None:
            current.sources.append(line.removeprefix("# source:").strip())
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        types = current.types if current is not None else faults
        if word == "faults":
            current = None
        elif word == "service":
            name, contract, context = rest.split()
            current = services[name] = ServiceContract(name, contract, context)
            current.types["RetailContext"] = TypeDef(
                "RetailContext", "type", members=(Member("DatabaseId", "string"),)
            )
        elif word == "type":
            head, _, body = rest.partition(":")
            name, _, base = (s.strip() for s in head.partition("<"))
            types[name] = TypeDef(name, "type", base=base or None, members=_members(body))
        elif word == "enum":
            name, _, body = rest.partition(":")
            types[name.strip()] = TypeDef(name.strip(), "enum", values=tuple(body.split()))
        elif word == "array":
            name, _, body = rest.partition(":")
            (item,) = _members(body)
            types[name.strip()] = TypeDef(name.strip(), "array", item=item)
        elif word == "op" and current is not None:
            match = re.match(r"^(\w+)\((.*)\)(?:\s*->\s*(\w+))?$", rest)
            if match is None:
                raise ValueError(f"contract.txt: bad operation {line!r}")
            name, params, result = match.groups()
            current.operations[name] = Operation(name, _members(params), result)
        else:
            raise ValueError(f"contract.txt: cannot read {line!r}")
    return faults, services


@functools.cache
def _loaded() -> tuple[dict[str, TypeDef], dict[str, ServiceContract]]:
    return parse(CONTRACT_FILE.read_text(encoding="utf-8"))


def fault_types() -> dict[str, TypeDef]:
    return _loaded()[0]


def contracts() -> dict[str, ServiceContract]:
    """Every service of ``contract.txt`` by name (parsed once per process)."""
    return _loaded()[1]
