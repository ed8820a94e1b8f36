"""A real browser for the tests: Playwright (PyPI) driving the machine's Chromium.

No browser is downloaded: Playwright launches Debian's ``/usr/bin/chromium`` (``.ci/run``
installs it; ``OMNISTOCK_CHROMIUM`` points elsewhere). Without it the browser tests are skipped,
unless ``OMNISTOCK_REQUIRE_BROWSER=1`` (CI sets it) makes that a failure. One browser per test,
closed in teardown: the machine runs one browser at a time.

Two flavours of the same browser: ``browser`` (Playwright's async API, for tests that drive the
app on the test's own event loop) and ``sync_browser`` (the sync API, for tests whose app runs in
a thread of its own). The sync one is started per test, not per session: while started it keeps
an event loop marked as running in this thread, which would break every asyncio test after it;
ask for the fixtures that use asyncio (a database, a served app) before ``sync_browser``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright
from playwright.sync_api import Browser as SyncBrowser
from playwright.sync_api import sync_playwright

# quiet and small: no GPU, no sandbox (CI runs as root), nothing phoned home
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


def _require_chromium() -> Path:
    path = chromium_path()
    if not path.exists():
        message = f"no Chromium at {path} (apt-get install chromium, or set OMNISTOCK_CHROMIUM)"
        if os.environ.get("OMNISTOCK_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = _require_chromium()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def chromium_launch() -> dict[str, Any]:
    """Launch options of the machine's Chromium (skips or fails as above when it is missing)."""
    return {
        "executable_path": str(_require_chromium()),
        "headless": True,
        "args": CHROMIUM_ARGS,
        "timeout": 60_000,
    }


@pytest.fixture
def sync_browser(chromium_launch: dict[str, Any]) -> Iterator[SyncBrowser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**chromium_launch)
        try:
            yield chromium
        finally:
            chromium.close()
