"""The Cegid Retail Y2 adapter of the ERP port.

Usage::

    erp = await create(CegidConfig(base_url=..., database_id=..., username=..., password=...),
                       on_call=metrics_hook)
    ...
    await erp.aclose()
"""

from __future__ import annotations

from service.erp.cegid.adapter import CegidErp
from service.erp.cegid.config import CallHook, CegidConfig
from service.erp.cegid.mapping import trim_item_id
from service.erp.cegid.resilience import CircuitOpenError
from service.erp.cegid.transport import RequestNotSent


async def create(config: CegidConfig, *, on_call: CallHook | None = None) -> CegidErp:
    """Build the adapter (same as ``CegidErp.create``): WSDLs are loaded once, in a thread."""
    return await CegidErp.create(config, on_call=on_call)


__all__ = [
    "CallHook",
    "CegidConfig",
    "CegidErp",
    "CircuitOpenError",
    "RequestNotSent",
    "create",
    "trim_item_id",
]
