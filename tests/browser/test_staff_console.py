"""The staff pickup console in a real browser, against a real app (PostgreSQL + simulator)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from service.domain.pickup_scan import scan_payload
from tests.browser.console_fixtures import Live, live  # noqa: F401  (fixture)

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport=TABLET, locale="en-GB")
    yield ctx
    await ctx.close()


async def sign_in(page: Page, live: Live, key: str = "staff", person: str = "Marie") -> None:
    await page.goto(live.console)
    await page.get_by_label("Staff key").fill(live.keys[key])
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("tab", name="To prepare")).to_be_visible()
    if person:
        await page.get_by_label("Who is working").fill(person)
        await page.get_by_label("Who is working").dispatch_event("change")


def card(page: Page, name: str) -> Any:
    return page.locator("#list .card", has_text=name)


async def test_sign_in_and_pickups_created_through_the_api_appear(live: Live, context) -> None:
    first = await live.create_pickup(0)
    await live.create_pickup(1)
    page = await context.new_page()
    await sign_in(page, live)
    await expect(page.locator("#count-prepare")).to_have_text("2")
    await expect(card(page, "Ana Lopez")).to_be_visible()
    await expect(card(page, "Bruno Martin")).to_be_visible()
    cookies = await context.cookies()
    (session,) = [c for c in cookies if c["name"] == "omnistock_staff"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert live.keys["staff"] not in str(cookies)
    storage = await page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert live.keys["staff"] not in storage
    await card(page, "Ana Lopez").click()
    detail = page.locator("#detail")
    await expect(detail.get_by_role("heading", name="Ana Lopez")).to_be_visible()
    sku, ean, _ = live.skus[live.store_a][0]
    await expect(detail.get_by_role("cell", name=ean)).to_be_visible()
    await expect(detail.get_by_role("cell", name=sku)).to_be_visible()
    assert first["id"] in await detail.inner_text()


async def _shoot(page: Page, folder: Any, name: str) -> None:
    await page.wait_for_timeout(150)  # let the last paint land
    await page.screenshot(path=str(folder / f"{name}.png"))


@pytest.mark.parametrize("size", ["tablet", "phone"])
async def test_main_screens_at_tablet_and_phone_sizes(
    live: Live, browser: Browser, size: str, tmp_path: Any
) -> None:
    """Screenshots of the main screens (``OMNISTOCK_SCREENSHOTS=docs`` keeps them in docs/ for
    the README); at both sizes nothing overflows sideways and every control is >= 44 px."""
    folder = Path(os.environ.get("OMNISTOCK_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    viewport = TABLET if size == "tablet" else PHONE
    ctx = await browser.new_context(viewport=viewport, locale="en-GB", device_scale_factor=1)
    try:
        for n in range(4):
            await live.create_pickup(n, kind="order" if n == 1 else "reservation")
        ready = await live.create_pickup(2)
        await live.call("POST", f"/v1/pickups/{ready['id']}/ready", "staff", **{"X-Staff-Id": "Léa"})
        page = await ctx.new_page()
        await page.goto(live.console)
        await expect(page.get_by_label("Staff key")).to_be_visible()
        await _shoot(page, folder, f"staff-signin-{size}")
        await sign_in(page, live)
        await expect(page.locator("#count-prepare")).to_have_text("4")
        await _shoot(page, folder, f"staff-list-{size}")
        await assert_fits(page, viewport["width"])
        await card(page, "Bruno Martin").first.click()
        await expect(page.locator("#detail h2")).to_contain_text("Bruno Martin")
        await _shoot(page, folder, f"staff-pickup-{size}")
        await assert_fits(page, viewport["width"])
        if size == "phone":  # one column: the pickup replaces the list
            await page.get_by_role("button", name="Back to the list").click()
        await page.get_by_role("tab", name="Ready").click()
        await card(page, "Chloé Durand").click()
        await expect(page.get_by_label("Customer's pickup code")).to_be_visible()
        await _shoot(page, folder, f"staff-handover-{size}")
        await assert_fits(page, viewport["width"])
    finally:
        await ctx.close()


async def assert_fits(page: Page, width: int) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"the page is {overflow}px wide in a {width}px viewport"
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, a.card, [role=tab]')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.textContent.trim().slice(0, 20), el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == [], f"touch targets under 44 px: {small}"
