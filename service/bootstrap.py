"""The ERP client from settings: what the API, the worker and the commands share. Nothing here
runs at import time."""

from __future__ import annotations

from service.erp.cegid import CegidConfig, CegidErp
from service.erp.port import ErpPort
from service.observability import Metrics
from service.settings import Settings


def cegid_config(settings: Settings) -> CegidConfig:
    return CegidConfig(
        base_url=settings.erp_url,
        app=settings.erp_app,
        database_id=settings.erp_database_id,
        username=settings.erp_user,
        password=settings.erp_password.get_secret_value(),
        timeout_s=settings.erp_timeout_s,
        max_concurrency=settings.erp_max_concurrency,
        retries=settings.erp_retries,
        use_remote_wsdl=settings.erp_remote_wsdl,
    )


async def build_erp(settings: Settings, metrics: Metrics) -> ErpPort:
    """The Cegid adapter (WSDLs loaded off the event loop), reporting calls to ``metrics``."""
    return await CegidErp.create(cegid_config(settings), on_call=metrics.observe_erp_call)
