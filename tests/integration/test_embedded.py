"""The embedded PostgreSQL stops when the last omnistock process using it exits, even after one
of them was killed with SIGKILL (issue 18: the dead pid stayed in pgserver's handle list, and the
server stayed up for good)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow
HANDLES = ".handle_pids.json"  # pgserver's list of the pids using a server

JOIN = """
import sys, time
from pathlib import Path
from stores.embedded import embedded_admin_dsn
embedded_admin_dsn(Path(sys.argv[1]))
print("up", flush=True)
if sys.argv[2] == "stay":
    time.sleep(120)
"""


def _postmaster(pgdata: Path) -> int | None:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


def _join(pgdata: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", JOIN, str(pgdata), mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
    return proc


def test_the_server_stops_after_the_last_process_even_after_a_kill_9() -> None:
    root = Path(tempfile.mkdtemp(prefix="omnistock-embedded-"))
    root.chmod(0o755)  # as root, pgserver runs PostgreSQL as its own user
    pgdata = root / "pg"
    try:
        killed = _join(pgdata, "stay")
        assert _postmaster(pgdata) is not None
        killed.send_signal(signal.SIGKILL)
        killed.communicate()
        assert killed.pid in json.loads((pgdata / HANDLES).read_text())  # left behind
        last = _join(pgdata, "leave")  # joins, then exits normally: the last user
        last.communicate(timeout=60)
        assert last.returncode == 0
        for _ in range(100):
            if _postmaster(pgdata) is None:
                break
            time.sleep(0.1)
        assert _postmaster(pgdata) is None, "the embedded server outlived its last user"
        assert json.loads((pgdata / HANDLES).read_text()) == []
    finally:
        pid = _postmaster(pgdata)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            psutil.wait_procs([psutil.Process(pid)], timeout=10)
        shutil.rmtree(root, ignore_errors=True)
