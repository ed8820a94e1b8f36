"""A real browser for the tests: Playwright (PyPI) driving the machine's Chromium.

No browser is downloaded: Playwright launches Debian's ``/usr/bin/chromium`` (``.ci/run``
installs it; ``OMNISTOCK_CHROMIUM`` points elsewhere). Without it the browser tests are skipped,
unless ``OMNISTOCK_REQUIRE_BROWSER=1`` (CI) makes that a failure. One browser per test, closed in
teardown: the machine runs one browser at a time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path:
    return Path(os.environ.get("OMNISTOCK_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    if not path.exists():
        message = f"no Chromium at {path} (apt-get install chromium, or set OMNISTOCK_CHROMIUM)"
        if os.environ.get("OMNISTOCK_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
