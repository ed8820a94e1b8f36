"""What the simulator received: call counts per operation and the raw exchanges."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Exchange:
    """One SOAP request as received (headers and body verbatim) and what we answered."""

    service: str
    operation: str  # "" when the SOAPAction matched no operation
    soap_action: str
    headers: dict[str, str]
    body: str
    status: int = 0
    response: str | None = None  # kept only when Journal.record_responses is True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Journal:
    limit: int = 500
    record_responses: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    exchanges: deque[Exchange] = field(default_factory=deque)

    def record(self, exchange: Exchange) -> None:
        self.calls[f"{exchange.service}.{exchange.operation or '?'}"] += 1
        self.exchanges.append(exchange)
        while len(self.exchanges) > self.limit:
            self.exchanges.popleft()

    def find(self, operation: str = "", service: str = "") -> list[Exchange]:
        return [
            e
            for e in self.exchanges
            if operation in ("", e.operation) and service in ("", e.service)
        ]

    def count(self, operation: str, service: str = "") -> int:
        if service:
            return self.calls[f"{service}.{operation}"]
        return sum(n for key, n in self.calls.items() if key.endswith(f".{operation}"))

    def clear(self) -> None:
        self.calls.clear()
        self.exchanges.clear()
