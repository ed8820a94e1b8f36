"""Browser tests: Playwright (from PyPI) driving the machine's Chromium (Debian's package, which
.ci/run installs): no browser is downloaded. Missing Chromium is a failure, not a skip: these
tests are part of CI.

``chromium_launch`` (session) checks Chromium once and gives the launch options; ``browser``
starts Playwright and one Chromium for a test and stops both after it. Not for the whole session:
Playwright's sync API keeps an event loop marked as running in this thread while it is started,
which would break every asyncio test (and ``asyncio.run``) after it. Ask for the fixtures that
use asyncio (a database, a served app) before ``browser`` in a test's arguments."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path(os.environ.get("OMNISTOCK_CHROMIUM", "/usr/bin/chromium"))
# quiet and small: no GPU, no sandbox (CI runs as root), nothing phoned home
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_launch() -> dict[str, Any]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium` (.ci/run does), "
            "or set OMNISTOCK_CHROMIUM to its path",
            pytrace=False,
        )
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
        "timeout": 60_000,
    }


@pytest.fixture
def browser(chromium_launch: dict[str, Any]) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**chromium_launch)
        try:
            yield chromium
        finally:
            chromium.close()
