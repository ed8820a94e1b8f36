"""One ERP client for a process, built at most once, possibly on first use.

The API must start even when the ERP cannot be reached (its WSDLs cannot be loaded): with stock
read-through off, nothing needs the client at start-up, so it is built by the first reader that
asks (loyalty balances, receipts), concurrent callers waiting for that one build. A failed build
is answered as ``ErpUnavailable`` (a 503) and tried again by the next caller. A client handed in
(by tests) is used as is and never closed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from service.erp.port import ErpError, ErpPort, ErpUnavailable

ErpSource = Callable[[], Awaitable[ErpPort]]
"""How a use case reaches the ERP when it needs it: ``await source()`` (``LazyErp.get``)."""


class LazyErp:
    def __init__(self, build: ErpSource, given: ErpPort | None = None) -> None:
        self._build = build
        self._client = given
        self._owned = False
        self._lock = asyncio.Lock()

    @property
    def client(self) -> ErpPort | None:
        """The client once built (or given); None before."""
        return self._client

    async def connect(self) -> ErpPort:
        """The client, built now if not yet; a failed build raises what the build raised."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await self._build()
                    self._owned = True
        return self._client

    async def get(self) -> ErpPort:
        """The client for a request: a failed build (e.g. a WSDL that cannot be loaded) is an
        ``ErpUnavailable``, answered as 503 like the ERP being down."""
        try:
            return await self.connect()
        except ErpError:
            raise
        except Exception as exc:
            raise ErpUnavailable(f"cannot build the ERP client: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the client if it was built here."""
        if self._owned and self._client is not None:
            await self._client.aclose()
