"""SIGTERM: the server stops accepting, finishes the request in flight, closes its pool; an
app's cleanup ends even when a background task swallowed its cancellation."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

from service.usecases.access.keys import create_key
from service.usecases.stock.reader import StockReader
from tests.tcp_proxy import TcpProxy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


async def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited early"
        try:
            if b" 200 " in (await _get(port, "/readyz")).split(b"\r\n", 1)[0]:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("server did not become ready")


async def _refuses_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_sigterm_finishes_in_flight_request(database_url: str, pool) -> None:
    admin, _ = await create_key(pool, "admin")
    proxy = TcpProxy(database_url)  # lets the test stall the server's database
    await proxy.start()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": proxy.dsn(),
        "OMNISTOCK_PORT": str(port),
        "OMNISTOCK_LOG_LEVEL": "WARNING",
        "OMNISTOCK_AUTH_CACHE_S": "0",
        "OMNISTOCK_READ_THROUGH": "false",
    }
    proc = subprocess.Popen(  # noqa: ASYNC220 - a server process we signal, not a wait
        [sys.executable, "-m", "service.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _wait_ready(port, proc)
        body = json.dumps({"role": "storefront", "label": "made during shutdown"}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        proxy.pause()  # the handler will block on PostgreSQL
        writer.write(
            (
                f"POST /v1/admin/keys HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {admin}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
        await writer.drain()
        await asyncio.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(1.0)
        assert proc.poll() is None  # still finishing the request
        assert await _refuses_connections(port)  # but no longer accepting
        proxy.resume()
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        # wait without blocking the loop: the proxy lives in this process
        assert await asyncio.wait_for(asyncio.to_thread(proc.wait), 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await proxy.stop()
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM api_keys WHERE label = $1", "made during shutdown"
        )
        == 1
    )
    # the server closed its pool on the way out: only our own connections remain
    others = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    assert others <= pool.get_size() - 1


async def test_app_cleanup_ends_even_when_the_listener_swallows_its_cancellation(
    make_client, monkeypatch
) -> None:
    """Python 3.11's wait_for (inside aiocache) can drop a cancellation that arrives as the
    cache call completes; the stock listener then waits for its next NOTIFY forever. The app's
    cleanup must still end (it cancels again), and give the pool its connection back."""
    swallowed = asyncio.Event()
    real = StockReader.invalidate_all

    async def invalidate_all(self: StockReader) -> None:
        try:
            await asyncio.sleep(0.3)  # the app is closed while this runs
        except asyncio.CancelledError:
            swallowed.set()  # what the wait_for race does: the call returns normally
        await real(self)

    monkeypatch.setattr(StockReader, "invalidate_all", invalidate_all)
    client = await make_client()
    await asyncio.sleep(0.05)  # the listener is in invalidate_all now
    await asyncio.wait_for(client.close(), timeout=15)
    assert swallowed.is_set()
