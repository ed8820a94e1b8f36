"""/docs in a real browser: Swagger UI renders the document from this origin alone, the tags in
reading order, the availability operation with its example, and try-it-out with a Bearer key
reaches the API (and is answered, here with the documented 404 problem of an unknown item)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from playwright.sync_api import Browser, expect

from service.api.app import create_app
from service.settings import Settings
from service.usecases.access.keys import create_key
from stores.db import create_pool
from tests.conftest import _drop, new_database, with_database


@pytest.fixture
def live_app(pg_admin_dsn: str, template_db: str) -> Iterator[tuple[str, str]]:
    """The app on a fresh database, served on a real port by a thread of its own (the browser
    waits synchronously); yields its base URL and a storefront key."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="live-app", daemon=True)
    thread.start()

    def run(coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    name = run(new_database(pg_admin_dsn, template_db))
    url = with_database(pg_admin_dsn, name)

    async def start() -> tuple[object, web.AppRunner, int, str]:
        pool = await create_pool(url, min_size=1, max_size=4)
        key, _ = await create_key(pool, "storefront", (), "browser test")
        settings = Settings(
            database_url=url, redis_url=None, auth_cache_s=0, log_json=False, read_through=False
        )
        runner = web.AppRunner(create_app(settings, pool=pool))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return pool, runner, runner.addresses[0][1], key

    pool, runner, port, key = run(start())
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        run(runner.cleanup())
        run(pool.close())  # type: ignore[attr-defined]
        run(_drop(pg_admin_dsn, name))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_docs_finds_the_availability_operation_and_its_example(
    live_app: tuple[str, str], sync_browser: Browser
) -> None:
    base, key = live_app
    context = sync_browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(f"{base}/docs")
        tags = page.locator(".opblock-tag-section h3 .nostyle span")
        expect(tags.first).to_have_text("Stores")
        names = tags.all_inner_texts()
        assert names[:2] == ["Stores", "Availability"] and names[-2:] == ["Admin", "Operations"]

        operation = page.locator("#operations-Availability-availability")
        operation.locator(".opblock-summary-control").click()
        expect(operation.locator(".opblock-summary-path")).to_have_text("/v1/availability")
        answers = operation.locator(".responses-wrapper")
        expect(answers).to_contain_text("SN00001-ROU-38 in the three stores nearest to Paris")
        expect(answers).to_contain_text('"store_id": "S012"')
        expect(answers).to_contain_text("urn:omnistock:problem:not-found")

        # try it out with a Bearer key: the example parameters are filled in
        # (the dialog also offers the staff console's session cookie: use the bearer scheme's form)
        page.locator("button.authorize").first.click()
        bearer = page.locator(".modal-ux .auth-container").filter(has_text="bearerAuth")
        bearer.locator("input[type=text]").fill(key)
        bearer.locator("button.authorize").click()
        expect(bearer.locator("h6")).to_have_text("Authorized")
        bearer.locator("button.btn-done").click()
        operation.locator("button.try-out__btn").click()
        expect(operation.locator("input[placeholder='sku']")).to_have_value("SN00001-ROU-38")
        operation.locator("button.execute").click()
        live = operation.locator(".live-responses-table")
        expect(live).to_contain_text("no item with sku 'SN00001-ROU-38'")  # authenticated
        expect(live.locator(".response-col_status:not(.col_header)")).to_contain_text("404")
    finally:
        context.close()
    outside = [u for u in requested if not u.startswith((base, "data:"))]
    assert outside == [], "the page loaded something from another origin"
    assert [e for e in errors if "404" not in e] == []  # the 404 is the try-it-out answer
