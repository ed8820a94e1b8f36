"""Configuration of the Cegid Y2 adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# on_call(service, operation, seconds, outcome): one call per HTTP attempt. Outcomes: "ok",
# "fault" (business SOAP fault), "timeout", "unavailable", "auth", "protocol", "circuit_open".
CallHook = Callable[[str, str, float, str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class CegidConfig:
    base_url: str  # e.g. https://tenant-retail-ondemand.cegid.cloud (no trailing /Y2)
    app: str = "Y2"  # path segment: Y2, Y2_TEST, Y2-POC...
    database_id: str
    username: str
    password: str = field(repr=False)
    timeout_s: float = 30.0  # per HTTP attempt (read/write/pool); the whole attempt is bounded too
    connect_timeout_s: float = 5.0
    max_concurrency: int = 8  # in-flight calls (and pooled connections)
    retries: int = 2  # extra attempts on transport errors, timeouts, non-fault 5xx
    backoff_base_s: float = 0.2
    backoff_max_s: float = 5.0
    circuit_failure_threshold: int = 5  # consecutive failures (per service) that open the circuit
    circuit_reset_s: float = 30.0  # open -> half-open after this long
    wsdl_dir: Path | None = None  # None: the bundled WSDLs (service/erp/wsdl)
    use_remote_wsdl: bool = False  # fetch {service}.svc?singleWsdl once at start instead
    erp_timezone: str = "Europe/Paris"  # local time of the dates we send
    stock_batch_size: int = 50  # ItemIdentifiers per GetListItemInventoryDetailByStore call
    price_batch_size: int = 200  # barcodes per price engine call
    payment_method_id: str = "WEB"  # Create_Payment.MethodId of paid web orders

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if self.max_concurrency < 1 or self.retries < 0 or self.timeout_s <= 0:
            raise ValueError("max_concurrency >= 1, retries >= 0 and timeout_s > 0 are required")
        if "\\" in self.username or "\\" in self.database_id:
            raise ValueError("give database_id and username separately (no backslash)")

    @property
    def login(self) -> str:
        """The HTTP Basic user name Cegid expects: ``DATABASEID\\user``."""
        return f"{self.database_id}\\{self.username}"

    def service_url(self, service: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.app.strip('/')}/{service}.svc"
