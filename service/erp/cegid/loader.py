"""Building the zeep clients (synchronous: call it in a thread, once, at start-up)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep import AsyncClient, Settings
from zeep import exceptions as zeep_errors
from zeep.proxy import AsyncServiceProxy

from service.erp.cegid.config import CegidConfig
from service.erp.cegid.faults import fault_error
from service.erp.cegid.transport import CegidTransport, check_reply, is_fault
from service.erp.port import ErpAuthError, ErpProtocolError, ErpUnavailable
from service.erp.wsdl import SERVICES, ServiceInfo


def zeep_settings() -> Settings:
    """zeep loads the WSDLs (lenient about what a tenant's ``?singleWsdl`` adds, hard on DTDs
    and entities) and writes the requests; it never reads a reply.

    ``raw_response``: zeep hands back the HTTP reply unparsed; ``ServiceHandle.call`` then parses
    it once (in a worker thread when it is large, so it does not block the event loop).
    """
    return Settings(
        raw_response=True,
        strict=False,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


Reader = Callable[[etree._Element], Any]  # port values from a reply's parsed envelope
LARGE_REPLY = 64 * 1024  # bytes: decode larger replies in a worker thread


@dataclass(frozen=True, slots=True)
class ServiceHandle:
    """One Y2 service: its zeep client, binding and async proxy. zeep writes the requests (in
    the WSDL's member order); replies are read by name (``mapping``, ``readers``), never by
    zeep's positional deserialiser, so member order and unknown members do not matter."""

    name: str
    client: Any
    binding: Any
    proxy: Any

    async def call(self, operation: str, params: dict[str, Any], read: Reader) -> Any:
        """Send the operation (zeep builds the envelope), then decode the reply: in a worker
        thread when it is large (lxml parses without the GIL)."""
        try:
            response = await self.proxy[operation](**params)
        except (TypeError, ValueError, zeep_errors.ValidationError, zeep_errors.LookupError) as exc:
            # zeep refused to build the request: the WSDL in use (a tenant's ?singleWsdl) has no
            # such operation or member, or wants another type. Nothing was sent.
            raise ErpProtocolError(
                f"{self.name}.{operation}: our request does not fit the WSDL: {exc}"
            ) from exc
        except AttributeError as exc:
            raise ErpProtocolError(f"{self.name}.{operation}: not in the WSDL: {exc}") from exc
        status, content = response.status_code, response.content
        if len(content) < LARGE_REPLY:
            return self.decode(operation, status, content, read)
        return await asyncio.to_thread(self.decode, operation, status, content, read)

    def decode(self, operation: str, status: int, content: bytes, read: Reader) -> Any:
        """Screen and parse the reply once (``check_reply``); a SOAP fault becomes its
        ``ErpError`` (``faults.fault_error``); a normal reply goes to ``read``."""
        root = check_reply(status, content)
        if status != 200 or is_fault(root):
            raise fault_error(root, f"{self.name}.{operation}")
        return read(root)


def _handle(config: CegidConfig, transport: CegidTransport, info: ServiceInfo) -> ServiceHandle:
    address = config.service_url(info.name)
    local = str(info.wsdl_path(config.wsdl_dir))
    wsdl = f"{address}?singleWsdl" if config.use_remote_wsdl else local
    client = AsyncClient(wsdl, transport=transport, settings=zeep_settings())
    binding = client.wsdl.bindings.get(info.binding)
    if binding is None:
        raise ErpProtocolError(f"{info.name}: the WSDL has no binding {info.binding}")
    # AsyncClient.create_service returns a synchronous proxy (zeep issue #1168): build it here.
    proxy = AsyncServiceProxy(client, binding, address=address)
    return ServiceHandle(info.name, client, binding, proxy)


def load_services(config: CegidConfig, transport: CegidTransport) -> dict[str, ServiceHandle]:
    """One zeep service per Y2 service, bound to ``{base_url}/{app}/{Service}.svc``."""
    try:
        return {name: _handle(config, transport, info) for name, info in SERVICES.items()}
    except zeep_errors.TransportError as exc:
        if exc.status_code in (401, 403):
            raise ErpAuthError(f"WSDL download refused: HTTP {exc.status_code}") from exc
        raise ErpUnavailable(f"WSDL download failed: HTTP {exc.status_code}") from exc
    except zeep_errors.Error as exc:
        raise ErpProtocolError(f"WSDL not usable: {exc!r}") from exc
