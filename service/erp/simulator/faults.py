"""Fault injection: rules matched per service/operation, fired by count or probability.

Kinds (``FaultRule.kind``):

- ``latency``: wait ``latency_ms`` then go on (stacks with one terminal kind below);
- ``http500``: HTTP 500 with an HTML body (not a SOAP fault);
- ``down``: HTTP 503 as IIS answers when the application pool is stopped;
- ``timeout``: hang ``hang_ms`` (or until the client goes away / the server stops), then 504;
- ``soap_fault``: a Cegid SOAP fault with ``code`` and innermost ``message``, its detail a
  ``CbpExceptionDetail`` chain, or (``detail``) a ``BusinessFaultDetail`` or ``CbpFaultDetail``;
- ``malformed``: HTTP 200 with truncated, ill-formed XML;
- ``xml_bomb``: HTTP 200 whose envelope carries a "billion laughs" internal DTD;
- ``xxe``: HTTP 200 whose envelope references an external (file) entity;
- ``duplicate``: the next create stores the document, then answers CBR00009 as if an earlier
  attempt had already integrated it (create operations only);
- ``drop``: process the request (state changes happen), then close the connection without an
  answer: a crash mid-post.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from service.erp.wsdl import NS_RETAIL, NS_SOAP_ENV

TERMINAL_KINDS = frozenset(
    {"http500", "down", "timeout", "soap_fault", "malformed", "xml_bomb", "xxe"}
    | {"duplicate", "drop"}
)
FAULT_KINDS = TERMINAL_KINDS | {"latency"}
CREATE_OPERATIONS = frozenset({"Create", "CustomersReservationCreate"})


class FaultSpecError(ValueError):
    """A fault rule asked through the control API does not make sense."""


@dataclass(slots=True)
class FaultRule:
    id: int
    kind: str
    service: str = "*"
    operation: str = "*"
    count: int | None = None  # times left; None: until cleared
    probability: float = 1.0
    latency_ms: int = 0
    hang_ms: int = 30_000
    code: str = "CBR_001_0003"
    message: str = "Simulated failure"
    detail: str = "CbpExceptionDetail"
    fired: int = 0

    def matches(self, service: str, operation: str) -> bool:
        if self.service not in ("*", service) or self.operation not in ("*", operation):
            return False
        return self.kind != "duplicate" or operation in CREATE_OPERATIONS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_INT_FIELDS = ("count", "latency_ms", "hang_ms")
_STR_FIELDS = ("service", "operation", "code", "message", "detail")
FAULT_DETAILS = ("CbpExceptionDetail", "BusinessFaultDetail", "CbpFaultDetail")


def _rule_from_spec(rule_id: int, spec: Mapping[str, Any]) -> FaultRule:
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"kind must be one of {sorted(FAULT_KINDS)}")
    unknown = set(spec) - {"kind", "probability", *_INT_FIELDS, *_STR_FIELDS}
    if unknown:
        raise FaultSpecError(f"unknown fields: {sorted(unknown)}")
    rule = FaultRule(id=rule_id, kind=kind)
    for name in _INT_FIELDS:
        value = spec.get(name)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FaultSpecError(f"{name} must be a non-negative integer")
            setattr(rule, name, value)
    for name in _STR_FIELDS:
        value = spec.get(name)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise FaultSpecError(f"{name} must be a non-empty string")
            setattr(rule, name, value)
    if rule.detail not in FAULT_DETAILS:
        raise FaultSpecError(f"detail must be one of {list(FAULT_DETAILS)}")
    probability = spec.get("probability", 1.0)
    if not isinstance(probability, int | float) or not 0.0 <= probability <= 1.0:
        raise FaultSpecError("probability must be between 0 and 1")
    rule.probability = float(probability)
    return rule


class FaultPlan:
    """The active fault rules. Draws are reproducible (seeded generator)."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        rule = _rule_from_spec(next(self._ids), spec)
        if rule.count != 0:
            self.rules.append(rule)
        return rule

    def draw(self, service: str, operation: str) -> tuple[int, FaultRule | None]:
        """Rules firing for one call: (total latency in ms, the terminal rule if any)."""
        latency_ms = 0
        terminal: FaultRule | None = None
        for rule in list(self.rules):
            if not rule.matches(service, operation):
                continue
            if terminal is not None and rule.kind != "latency":
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            self._consume(rule)
            if rule.kind == "latency":
                latency_ms += rule.latency_ms
            else:
                terminal = rule
        return latency_ms, terminal

    def _consume(self, rule: FaultRule) -> None:
        rule.fired += 1
        if rule.count is not None:
            rule.count -= 1
            if rule.count <= 0:
                self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()


# ---------------------------------------------------------------------- hostile payloads
def _wrap(operation: str, inner: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body>'
        f'<{operation}Response xmlns="{NS_RETAIL}"><{operation}Result>{inner}'
        f"</{operation}Result></{operation}Response></s:Body></s:Envelope>"
    ).encode()


def malformed_payload(operation: str) -> bytes:
    """A reply cut in the middle of an element, with an unclosed tag: not well-formed."""
    return _wrap(operation, "<AvailableQty>12</AvailableQty>")[:-60] + b"<Broken attr='1"


def xml_bomb_payload(operation: str) -> bytes:
    """'Billion laughs': nested internal entities that expand to gigabytes if resolved."""
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    prolog = f"<!DOCTYPE lolz [{''.join(entities)}]>"
    return _wrap(operation, "&lol9;", prolog)


def xxe_payload(operation: str) -> bytes:
    """An external entity pointing at a local file: must never be resolved by a client."""
    prolog = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _wrap(operation, "&xxe;", prolog)
