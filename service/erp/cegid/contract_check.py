"""``omnistock erp check``: compare a tenant's contract with ours, then call it once, read-only.

For each service in ``service.erp.wsdl.SERVICES`` the tenant's ``?singleWsdl`` is fetched with
the adapter's own transport (HTTP Basic as ``DATABASEID\\user``) and compared, operation by
operation, with the bundled WSDL: the binding's SOAPAction, the input and output wrapper
elements, and every complex type reachable from them along what omnistock sends and reads
(``contract_use``), members matched by local name after flattening ``xs:extension`` bases.

A difference is *blocking* when a request we send would be refused or silently dropped by WCF
(a missing operation, another SOAPAction or wrapper element, a member we send that is missing,
renamed, of an incompatible type or out of order, an enumerated value we send that the tenant
does not declare, a member the tenant requires that we do not send), or when a reply member we
read is missing or of an incompatible type. Anything else is a *note*: members the tenant adds
(replies are read by name), members we declare but never send or read, reply members in another
order, type names, compatible simple types (an integer we send into a wider number, a number we
read as another number, a string we read from any simple value).

Then the live part, through the adapter (the real request building and reply parsing):
HelloWorld on every service, one stock page, one item page, and one price of that item's
barcode at the first store of the stock page.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from lxml import etree

from service.erp.cegid import contract_use, mapping
from service.erp.cegid.adapter import CegidErp
from service.erp.cegid.config import CegidConfig
from service.erp.cegid.transport import build_transport
from service.erp.cegid.wsdl_model import (
    XS,
    ComplexType,
    Member,
    Operation,
    QName,
    SimpleType,
    Wsdl,
    WsdlError,
    parse_wsdl,
    qname_text,
)
from service.erp.cegid.xmlread import result
from service.erp.port import ErpError
from service.erp.wsdl import INVENTORY, ITEMS, PRICES, SERVICES, ServiceInfo

Direction = Literal["request", "reply"]
MAX_DEPTH = 40


@dataclass(frozen=True, slots=True)
class Finding:
    blocking: bool
    where: str  # "request createRequest/Header/Origin", "reply GetListDetailResult/Items"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(slots=True)
class OperationVerdict:
    operation: str
    status: Literal["ok", "differs", "missing"] = "ok"
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking]

    def add(self, blocking: bool, where: str, message: str) -> None:
        self.findings.append(Finding(blocking, where, message))
        if blocking and self.status == "ok":
            self.status = "differs"


@dataclass(slots=True)
class ServiceReport:
    service: str
    url: str
    error: str = ""  # the WSDL could not be fetched or read: every operation is unchecked
    connection_error: bool = False
    findings: list[Finding] = field(default_factory=list)  # service-level (binding)
    operations: list[OperationVerdict] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return bool(
            self.error
            or any(f.blocking for f in self.findings)
            or any(op.status != "ok" for op in self.operations)
        )


@dataclass(slots=True)
class LiveCall:
    call: str
    ok: bool
    detail: str
    seconds: float = 0.0
    blocking: bool = True  # a failure that blocks go-live (False: a note)


@dataclass(slots=True)
class CheckReport:
    services: list[ServiceReport] = field(default_factory=list)
    live: list[LiveCall] = field(default_factory=list)

    @property
    def connection_error(self) -> bool:
        return any(s.connection_error for s in self.services)

    @property
    def blocking(self) -> bool:
        return any(s.blocking for s in self.services) or any(
            not c.ok and c.blocking for c in self.live
        )

    @property
    def exit_code(self) -> int:
        if self.connection_error:
            return 2
        return 1 if self.blocking else 0

    def to_dict(self) -> dict[str, Any]:
        services = []
        for s in self.services:
            services.append(
                {
                    "service": s.service,
                    "url": s.url,
                    "error": s.error or None,
                    "blocking": [str(f) for f in s.findings if f.blocking],
                    "notes": [str(f) for f in s.findings if not f.blocking],
                    "operations": [
                        {
                            "operation": op.operation,
                            "status": op.status,
                            "blocking": [str(f) for f in op.blocking],
                            "notes": [str(f) for f in op.notes],
                        }
                        for op in s.operations
                    ],
                }
            )
        return {
            "ok": not self.blocking and not self.connection_error,
            "exit_code": self.exit_code,
            "services": services,
            "live": [asdict(c) for c in self.live],
        }


# ------------------------------------------------------------------------------ comparing
def _binding_name(info: ServiceInfo) -> str:
    return info.binding.rpartition("}")[2]


def _pick_binding(info: ServiceInfo, wsdl: Wsdl) -> tuple[str, dict[str, Operation]] | None:
    """The tenant's binding of the service: ours by name, else the SOAP 1.1 binding holding
    most of our operations."""
    name = _binding_name(info)
    if name in wsdl.bindings:
        return name, wsdl.bindings[name]
    best = max(
        wsdl.bindings.items(),
        key=lambda kv: len(set(kv[1]) & set(info.operations)),
        default=None,
    )
    if best is None or not set(best[1]) & set(info.operations):
        return None
    return best


def compare_service(
    info: ServiceInfo, ours: Wsdl, theirs: Wsdl, report: ServiceReport, *, remote_wsdl: bool
) -> None:
    """Fill ``report`` with the verdict of every operation omnistock uses in ``info``."""
    our_ops = ours.bindings.get(_binding_name(info), {})
    picked = _pick_binding(info, theirs)
    if picked is None:
        report.findings.append(
            Finding(True, "binding", f"no SOAP 1.1 binding with our operations ({info.binding})")
        )
        their_ops: dict[str, Operation] = {}
    else:
        name, their_ops = picked
        if name != _binding_name(info):
            report.findings.append(
                Finding(
                    remote_wsdl,
                    "binding",
                    f"named {name}, ours {_binding_name(info)}"
                    + (" (OMNISTOCK_ERP_REMOTE_WSDL=true needs ours)" if remote_wsdl else ""),
                )
            )
    for operation in info.operations:
        verdict = OperationVerdict(operation)
        report.operations.append(verdict)
        mine = our_ops.get(operation)
        if mine is None:
            verdict.add(True, "bundled", "the bundled WSDL lacks the operation")
            continue
        other = their_ops.get(operation)
        if other is None:
            verdict.status = "missing"
            verdict.findings.append(Finding(True, "", "operation missing from the tenant"))
            continue
        if (mine.soap_action or "") != (other.soap_action or ""):
            verdict.add(
                True, "SOAPAction", f"tenant {other.soap_action!r}, we send {mine.soap_action!r}"
            )
        key = f"{info.name}.{operation}"
        _Comparison(verdict, key, ours, theirs, "request").wrapper(
            mine.input_element, other.input_element
        )
        _Comparison(verdict, key, ours, theirs, "reply").wrapper(
            mine.output_element, other.output_element
        )


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


class _Comparison:
    """One direction (request or reply) of one operation, walked from its wrapper element."""

    def __init__(
        self,
        verdict: OperationVerdict,
        key: str,
        ours: Wsdl,
        theirs: Wsdl,
        direction: Direction,
    ) -> None:
        self.verdict = verdict
        self.ours = ours
        self.theirs = theirs
        self.direction = direction
        table = contract_use.SENDS if direction == "request" else contract_use.READS
        self.listed: dict[str, list[str]] | None = table.get(key)
        self.values = contract_use.SENT_VALUES.get(key, {})
        self._stack: set[tuple[int, int]] = set()

    # -------------------------------------------------------------------- what we use
    def used_here(self, path: str, members: Iterable[Member]) -> set[str]:
        """Local names of the members at ``path`` that we send (request) or read (reply)."""
        if self.listed is None:
            return {m.local for m in members}  # not listed: everything counts
        used = {name for entry in self.listed.get(path, ()) for name in entry.split("|")}
        prefix = _split(path)
        for listed_path in self.listed:
            parts = _split(listed_path)
            if parts[: len(prefix)] == prefix and len(parts) > len(prefix):
                used.add(parts[len(prefix)])  # an element on the way to a deeper path
        return used

    def alternatives(self, path: str, name: str) -> list[str]:
        """The other members an ``"A|B"`` entry of ``READS`` accepts instead of ``name``."""
        for entry in (self.listed or {}).get(path, ()):
            names = entry.split("|")
            if name in names:
                return [n for n in names if n != name]
        return []

    def note(self, blocking: bool, path: str, message: str) -> None:
        self.verdict.add(blocking, f"{self.direction} {path}".rstrip(), message)

    # -------------------------------------------------------------------- walking
    def wrapper(self, mine: QName | None, other: QName | None) -> None:
        if mine is None:
            self.note(True, "", "the bundled WSDL has no wrapper element")
            return
        if other is None:
            self.note(True, "", "the tenant's operation has no wrapper element")
            return
        if mine != other:
            self.note(True, "", f"wrapper element {_fmt(other)} in the tenant, ours {_fmt(mine)}")
            return
        our_el, their_el = self.ours.element(mine), self.theirs.element(other)
        if our_el is None:
            self.note(True, "", f"the bundled WSDL does not declare {_fmt(mine)}")
            return
        if their_el is None:
            self.note(True, "", f"the tenant's WSDL does not declare {_fmt(other)}")
            return
        self.member(our_el, their_el, "", used=True, depth=0)

    def member(self, mine: Member, other: Member, path: str, *, used: bool, depth: int) -> None:
        if mine.repeated != other.repeated:
            shapes = ("a list", "a single element")
            theirs, ours = shapes if other.repeated else shapes[::-1]
            self.note(used, path, f"{theirs} in the tenant, {ours} in ours")
        our_type, their_type = mine.type, other.type
        if their_type is None:
            self.note(used, path, f"the tenant's type {other.type_label} is not defined")
            return
        if our_type is None:
            self.note(False, path, f"the bundled type {mine.type_label} is not defined")
            return
        if isinstance(our_type, ComplexType) and isinstance(their_type, ComplexType):
            if (
                mine.type_name
                and other.type_name
                and mine.type_name[1] != other.type_name[1]
                and path
            ):
                self.note(False, path, f"type named {other.type_label}, ours {mine.type_label}")
            if used and depth < MAX_DEPTH:
                self.complex(our_type, their_type, path, depth)
            return
        if isinstance(our_type, SimpleType) and isinstance(their_type, SimpleType):
            self.simple(our_type, their_type, path, used=used)
            return
        if isinstance(our_type, ComplexType) and our_type.simple_content is not None:
            our_type = our_type.simple_content
        if isinstance(their_type, ComplexType) and their_type.simple_content is not None:
            their_type = their_type.simple_content
        if isinstance(our_type, SimpleType) and isinstance(their_type, SimpleType):
            self.simple(our_type, their_type, path, used=used)
            return
        kind = "a structure" if isinstance(their_type, ComplexType) else "a simple value"
        self.note(
            used, path, f"the tenant declares {kind} ({other.type_label}), ours {mine.type_label}"
        )

    def simple(self, mine: SimpleType, other: SimpleType, path: str, *, used: bool) -> None:
        if mine.base != other.base or mine.is_list != other.is_list:
            compatible = mine.is_list == other.is_list and _compatible(
                mine.base, other.base, self.direction
            )
            how = "request" if self.direction == "request" else "reply"
            self.note(
                used and not compatible,
                path,
                f"type {_describe(other)} in the tenant, ours {_describe(mine)}"
                + (f" (compatible for a {how})" if compatible else ""),
            )
            return
        if mine.name and other.name and mine.name[1] != other.name[1]:
            self.note(False, path, f"type named {other.label}, ours {mine.label}")
        if self.direction == "request":
            if other.enumeration:
                sent = self.values.get(path)
                if sent is None:
                    sent = list(mine.enumeration)
                    if not sent:
                        self.note(
                            used,
                            path,
                            f"the tenant restricts it to {_values(other.enumeration)}; "
                            "list the values we send in contract_use.SENT_VALUES",
                        )
                        return
                refused = [v for v in sent if v not in other.enumeration]
                if refused:
                    self.note(used, path, f"the tenant does not accept {_values(refused)}")
            extra = [v for v in other.enumeration if v not in mine.enumeration]
            if extra and mine.enumeration:
                self.note(False, path, f"the tenant also accepts {_values(extra)}")
        else:
            unknown = [v for v in other.enumeration if v not in mine.enumeration]
            if unknown and mine.enumeration:
                self.note(False, path, f"the tenant may answer {_values(unknown)} too")
            gone = [v for v in mine.enumeration if other.enumeration and v not in other.enumeration]
            if gone:
                self.note(False, path, f"the tenant no longer declares {_values(gone)}")

    def complex(self, mine: ComplexType, other: ComplexType, path: str, depth: int) -> None:
        key = (id(mine), id(other))
        if key in self._stack:
            return  # a recursive type: already being compared further up
        self._stack.add(key)
        try:
            self._complex(mine, other, path, depth)
        finally:
            self._stack.discard(key)

    def _complex(self, mine: ComplexType, other: ComplexType, path: str, depth: int) -> None:
        request = self.direction == "request"
        theirs = {m.local: m for m in other.members}
        ours = {m.local for m in mine.members}
        used = self.used_here(path, mine.members)
        for listed in sorted(used - ours):
            if self.listed is not None and not set(self.alternatives(path, listed)) & ours:
                self.note(False, _join(path, listed), "listed in contract_use, not in our WSDL")
        for m in mine.members:
            child = _join(path, m.local)
            is_used = m.local in used or (request and m.min_occurs >= 1)
            other_m = theirs.get(m.local)
            if other_m is None:
                why = "we send it" if request else "we read it"
                unused = "we never send it" if request else "we do not read it"
                instead = [n for n in self.alternatives(path, m.local) if n in theirs]
                if is_used and instead:
                    self.note(False, child, f"missing in the tenant (we read {instead[0]})")
                    continue
                self.note(is_used, child, f"missing in the tenant ({why if is_used else unused})")
                continue
            if m.name[0] != other_m.name[0]:
                self.note(
                    is_used,
                    child,
                    f"namespace {other_m.name[0]!r} in the tenant, ours {m.name[0]!r}",
                )
            if request and not is_used and other_m.min_occurs >= 1:
                self.note(True, child, "the tenant requires it (minOccurs>=1); we do not send it")
            self.member(m, other_m, child, used=is_used, depth=depth + 1)
        for other_m in other.members:
            if other_m.local in ours:
                continue
            child = _join(path, other_m.local)
            if request and other_m.min_occurs >= 1:
                self.note(True, child, "the tenant requires it (minOccurs>=1); we do not have it")
            else:
                self.note(False, child, "the tenant adds it")
        self._order(mine, other, path, used)

    def _order(self, mine: ComplexType, other: ComplexType, path: str, used: set[str]) -> None:
        position = {m.local: i for i, m in enumerate(other.members)}
        request = self.direction == "request"
        names = [
            m.local
            for m in mine.members
            if m.local in position and (not request or m.local in used or m.min_occurs >= 1)
        ]
        for before, after in itertools.pairwise(names):
            if position[before] > position[after]:
                if request:
                    self.note(
                        True,
                        path,
                        f"order: we send {before} before {after}; the tenant's sequence has "
                        f"{after} first (WCF drops members out of order)",
                    )
                else:
                    self.note(
                        False, path, f"order: {after} before {before} (replies are read by name)"
                    )
                return


_INTEGERS = frozenset(
    (XS, n)
    for n in (
        "byte",
        "short",
        "int",
        "long",
        "integer",
        "unsignedByte",
        "unsignedShort",
        "unsignedInt",
        "unsignedLong",
    )
)
_FRACTIONS = frozenset((XS, n) for n in ("decimal", "double", "float"))
_NUMBERS = _INTEGERS | _FRACTIONS
_STRING = (XS, "string")


def _compatible(ours: QName, theirs: QName, direction: Direction) -> bool:
    """Whether a simple value of builtin type ``ours`` goes through as ``theirs``: a number we
    send fits a wider number (an integer any number, a fraction any fraction) or a string; a
    reply is read from its text, so a number reads as any number and a string as anything."""
    if direction == "request":
        if theirs == _STRING:
            return True
        if ours in _INTEGERS:
            return theirs in _NUMBERS
        return ours in _FRACTIONS and theirs in _FRACTIONS
    return (ours in _NUMBERS and theirs in _NUMBERS) or ours == _STRING


def _describe(simple: SimpleType) -> str:
    base = qname_text(simple.base)
    return simple.label if simple.label == base else f"{simple.label} ({base})"


def _fmt(name: QName) -> str:
    return f"{{{name[0]}}}{name[1]}" if name[0] else name[1]


def _values(values: Iterable[str]) -> str:
    return ", ".join(values)


# ------------------------------------------------------------------------------ contract_use
def resolve_path(wsdl: Wsdl, wrapper: QName | None, path: str) -> Member | None:
    """The member at ``path`` (local names) below the ``wrapper`` element, or None."""
    member = wsdl.element(wrapper) if wrapper is not None else None
    for name in _split(path):
        if member is None or not isinstance(member.type, ComplexType):
            return None
        member = next((m for m in member.type.members if m.local == name), None)
    return member


def contract_use_errors(wsdl_dir: Path | None = None) -> list[str]:
    """What ``contract_use`` lists that the bundled WSDLs do not have (empty when consistent):
    each path must lead to a complex type holding the listed members; each ``SENT_VALUES``
    path to a simple-typed member declaring the values when it is an enumeration."""
    errors: list[str] = []
    models = {info.name: load_bundled(info, wsdl_dir) for info in SERVICES.values()}
    tables = {
        "SENDS": (contract_use.SENDS, "input"),
        "READS": (contract_use.READS, "output"),
        "SENT_VALUES": (contract_use.SENT_VALUES, "input"),
    }
    for table_name, (table, side) in tables.items():
        for key, paths in table.items():
            service, _, operation = key.partition(".")
            info = SERVICES.get(service)
            if info is None or operation not in info.operations:
                errors.append(f"{table_name}[{key!r}]: not an operation omnistock uses")
                continue
            op = models[service].bindings.get(_binding_name(info), {}).get(operation)
            if op is None:
                errors.append(f"{table_name}[{key!r}]: not in the bundled WSDL")
                continue
            wrapper = op.input_element if side == "input" else op.output_element
            for path, names in paths.items():
                where = f"{table_name}[{key!r}][{path!r}]"
                member = resolve_path(models[service], wrapper, path)
                if member is None:
                    errors.append(f"{where}: no such element in the bundled WSDL")
                elif table_name == "SENT_VALUES":
                    kind = member.type
                    if not isinstance(kind, SimpleType):
                        errors.append(f"{where}: not a simple value")
                    elif kind.enumeration:
                        undeclared = [v for v in names if v not in kind.enumeration]
                        if undeclared:
                            errors.append(f"{where}: {_values(undeclared)} not declared")
                elif not isinstance(member.type, ComplexType):
                    errors.append(f"{where}: not a structure")
                else:
                    have = {m.local for m in member.type.members}
                    missing = [n for n in names if not set(n.split("|")) & have]
                    if missing:
                        errors.append(f"{where}: {_values(missing)} not members")
    return errors


# ------------------------------------------------------------------------------ fetching
async def fetch_wsdl(client: httpx.AsyncClient, url: str) -> tuple[bytes | None, str, bool]:
    """(content, error, connection_error) of a ``?singleWsdl`` GET."""
    try:
        response = await client.get(url)
    except httpx.TransportError as exc:
        return None, f"cannot reach the tenant: {type(exc).__name__}: {exc}", True
    if response.status_code in (401, 403):
        return None, f"HTTP {response.status_code}: the tenant refused our credentials", False
    if response.status_code != 200:
        return None, f"HTTP {response.status_code} for the WSDL", False
    return response.content, "", False


def load_bundled(info: ServiceInfo, wsdl_dir: Path | None) -> Wsdl:
    return parse_wsdl(info.wsdl_path(wsdl_dir).read_bytes())


async def compare_all(config: CegidConfig, services: Iterable[ServiceInfo]) -> list[ServiceReport]:
    """Fetch and compare the ``?singleWsdl`` of each service (concurrently)."""
    transport = build_transport(config)
    try:

        async def one(info: ServiceInfo) -> ServiceReport:
            url = f"{config.service_url(info.name)}?singleWsdl"
            report = ServiceReport(info.name, url)
            content, error, connection = await fetch_wsdl(transport.client, url)
            if content is None:
                report.error, report.connection_error = error, connection
                return report
            try:
                theirs = await asyncio.to_thread(parse_wsdl, content)
                ours = await asyncio.to_thread(load_bundled, info, config.wsdl_dir)
                compare_service(info, ours, theirs, report, remote_wsdl=config.use_remote_wsdl)
            except WsdlError as exc:
                report.error = f"the tenant's WSDL is not readable: {exc}"
            return report

        return list(await asyncio.gather(*(one(info) for info in services)))
    finally:
        await transport.aclose()


# ------------------------------------------------------------------------------ live calls
async def _timed(
    name: str, call: Callable[[], Awaitable[tuple[str, bool]]], *, empty_blocks: bool = True
) -> LiveCall:
    """Run one live call: an ``ErpError`` always blocks; an answer the call judges not ok
    (``(detail, False)``: nothing read) blocks unless ``empty_blocks`` is False."""
    started = time.perf_counter()
    blocking = empty_blocks
    try:
        detail, ok = await call()
    except ErpError as exc:
        detail, ok, blocking = f"{type(exc).__name__}: {exc}", False, True
    return LiveCall(name, ok, detail, round(time.perf_counter() - started, 3), blocking)


def _hello_text(root: etree._Element) -> str:
    """HelloWorld's reply as ``CegidErp.hello`` reads it."""
    return mapping.text(result(root, "HelloWorld"))


async def live_calls(erp: CegidErp, services: Iterable[ServiceInfo]) -> list[LiveCall]:
    """HelloWorld on each service, then one stock page, one item page and one price."""
    results: list[LiveCall] = []
    for info in services:

        async def hello(svc: ServiceInfo = info) -> tuple[str, bool]:
            # The port's hello() only calls the inventory service; the adapter's _call is the
            # same path (context, retries, fault classification) for any service.
            answer = await erp._call(
                svc, "HelloWorld", {"text": "omnistock erp check"}, read=_hello_text
            )
            text = str(answer or "").strip()
            first = text.splitlines()[0] if text else ""
            return (f"answered {first!r}" if text else "answered nothing"), bool(text)

        results.append(await _timed(f"{info.name}.HelloWorld", hello))

    store_id, barcode = "", ""

    async def stock() -> tuple[str, bool]:
        nonlocal store_id
        page = await erp.stock_page(1, 1)
        skus = {line.sku for line in page.lines}
        store_id = next((line.store_id for line in page.lines if line.store_id), "")
        detail = f"{len(skus)} item(s), {len(page.lines)} store line(s)"
        if not page.lines:
            return f"{detail}: nothing read from page 1 (is the reply read?)", False
        return detail, True

    async def items() -> tuple[str, bool]:
        nonlocal barcode
        page = await erp.items_page(1, 1)
        barcode = next((item.barcode for item in page.items if item.barcode), "")
        detail = f"{len(page.items)} item(s)"
        if not page.items:
            return f"{detail}: nothing read from page 1 (is the reply read?)", False
        if not barcode:
            return f"{detail}, without a barcode", False
        return f"{detail}, barcode {barcode}", True

    results.append(
        await _timed(f"{INVENTORY.name}.GetListItemInventoryDetailByStore (1 item)", stock)
    )
    results.append(await _timed(f"{ITEMS.name}.GetListDetail (1 item)", items))

    price_name = f"{PRICES.name}.GetListDetail (1 barcode, 1 store)"
    if not store_id or not barcode:
        missing = "store from the stock page" if not store_id else "barcode from the item page"
        results.append(LiveCall(price_name, False, f"skipped: no {missing}"))
        return results

    async def price() -> tuple[str, bool]:
        prices = await erp.store_prices(store_id, [barcode])
        where = f"barcode {barcode} at store {store_id}"
        if not prices:
            return f"no price for {where} (the item may have none there)", False
        first = prices[0]
        return f"{len(prices)} price(s) for {where}: {first.current} {first.currency}", True

    results.append(await _timed(price_name, price, empty_blocks=False))
    return results


async def run_check(config: CegidConfig, *, live: bool = True) -> CheckReport:
    """The whole check: contracts of every service, then (unless the tenant is unreachable)
    the live calls."""
    services = list(SERVICES.values())
    report = CheckReport(await compare_all(config, services))
    if not live or report.connection_error:
        return report
    try:
        erp = await CegidErp.create(config)
    except ErpError as exc:
        report.live.append(LiveCall("adapter start", False, f"{type(exc).__name__}: {exc}"))
        return report
    try:
        report.live.extend(await live_calls(erp, services))
    finally:
        await erp.aclose()
    return report


# ------------------------------------------------------------------------------ output
def render(report: CheckReport, *, verbose: bool = False) -> str:
    """The human table: one line per service operation, then the live calls."""
    out: list[str] = []
    width = max((len(op.operation) for s in report.services for op in s.operations), default=10)
    for s in report.services:
        out.append(f"{s.service}  ({s.url})")
        if s.error:
            out.append(f"  error: {s.error}")
            continue
        for f in s.findings:
            out.append(f"  {'BLOCKING' if f.blocking else 'note'}: {f}")
        for op in s.operations:
            notes = op.notes
            if op.status == "missing":
                lines = ["missing"]
            elif op.status == "differs":
                lines = [f"differs: {f}" for f in op.blocking]
            else:
                lines = ["ok"]
            if notes and not verbose:
                lines[0] += f" ({len(notes)} note{'s' if len(notes) > 1 else ''}, see --verbose)"
            elif verbose:
                lines.extend(f"note: {f}" for f in notes)
            out.append(f"  {op.operation:<{width}}  {lines[0]}")
            out.extend(f"  {'':<{width}}  {line}" for line in lines[1:])
    if report.live:
        out.append("live calls")
        for c in report.live:
            state = "ok" if c.ok else ("FAILED" if c.blocking else "warning")
            out.append(f"  {c.call}: {state} ({c.seconds:.2f}s): {c.detail}")
    verdict = {0: "OK: nothing blocking", 1: "BLOCKING differences", 2: "cannot connect"}
    out.append(f"verdict: {verdict[report.exit_code]}")
    return "\n".join(out)


__all__ = [
    "CheckReport",
    "Finding",
    "LiveCall",
    "OperationVerdict",
    "ServiceReport",
    "compare_service",
    "render",
    "run_check",
]
