"""The app's one ERP client: built once for concurrent callers, a failed build answered as 503
and tried again, a given client never closed."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from service.erp.lazy import LazyErp
from service.erp.port import ErpPort, ErpUnavailable


class FakeErp:
    closed = 0

    async def aclose(self) -> None:
        self.closed += 1


def builder(fails: int = 0) -> tuple[Any, list[FakeErp]]:
    built: list[FakeErp] = []
    attempts = [0]

    async def build() -> ErpPort:
        attempts[0] += 1
        await asyncio.sleep(0.01)
        if attempts[0] <= fails:
            raise OSError("WSDL unreachable")
        built.append(FakeErp())
        return cast(ErpPort, built[-1])

    return build, built


async def test_concurrent_callers_share_one_build_closed_once() -> None:
    build, built = builder()
    lazy = LazyErp(build)
    assert lazy.client is None
    clients = await asyncio.gather(*(lazy.get() for _ in range(5)))
    assert len(built) == 1 and all(c is built[0] for c in clients)
    await lazy.aclose()
    assert built[0].closed == 1


async def test_a_failed_build_is_unavailable_then_tried_again() -> None:
    build, built = builder(fails=1)
    lazy = LazyErp(build)
    with pytest.raises(ErpUnavailable, match="cannot build the ERP client"):
        await lazy.get()
    assert await lazy.get() is built[0]
    await lazy.aclose()


async def test_connect_raises_what_the_build_raised() -> None:
    build, _ = builder(fails=1)
    with pytest.raises(OSError):
        await LazyErp(build).connect()


async def test_a_given_client_is_used_and_left_open() -> None:
    build, built = builder()
    given = FakeErp()
    lazy = LazyErp(build, cast(ErpPort, given))
    assert await lazy.get() is given and not built
    await lazy.aclose()
    assert given.closed == 0
