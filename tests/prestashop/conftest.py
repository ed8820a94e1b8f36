"""Fixtures of the PrestaShop module's tests: a real omnistock, PHP, MariaDB, the harness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.prestashop.omnistock_server import ROOT, free_port, running_omnistock

MODULE = ROOT / "prestashop" / "omnistock"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is missing: .ci/run installs it (apt-get install php-cli phpunit ...)")
    return path


def mysql(sql: str) -> None:
    """One statement on the local MariaDB, through PHP's PDO (no Python MySQL driver needed)."""
    code = (
        f'$p = new PDO("mysql:host=127.0.0.1;port=3306", "root", "");$p->exec({json.dumps(sql)});'
    )
    subprocess.run([need("php"), "-r", code], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def omnistock_info() -> Iterator[dict[str, Any]]:
    need("php")
    with running_omnistock() as info:
        yield info


@pytest.fixture(scope="session")
def harness(omnistock_info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The fixture shop (tests/harness/router.php) under ``php -S``, on its own database."""
    database = f"omnistock_harness_{uuid.uuid4().hex[:10]}"
    mysql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    state = tempfile.TemporaryDirectory(prefix="omnistock-harness-")
    port = free_port()
    env = dict(
        os.environ,
        OMNISTOCK_TEST_INFO=json.dumps(omnistock_info),
        HARNESS_DB=database,
        HARNESS_STATE=state.name,
    )
    log = Path(state.name) / "php.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                need("php"),
                "-d",
                "error_reporting=-1",
                "-d",
                "display_errors=1",
                "-S",
                f"127.0.0.1:{port}",
                "tests/harness/router.php",
            ],
            cwd=MODULE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/__down?on=0", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        yield {"url": base, "log": log, "omnistock": omnistock_info}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        # The stand-in Smarty's compile folder of this server process.
        shutil.rmtree(Path(tempfile.gettempdir()) / f"omnistock-smarty-{proc.pid}", True)
        mysql(f"DROP DATABASE IF EXISTS `{database}`")
        state.cleanup()
