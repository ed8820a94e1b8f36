"""The module's product-page and checkout widgets in Chromium (Debian's, driven by Playwright):
fixture pages rendered from the module's real templates, JS and CSS, its real front controllers
on stand-in PrestaShop core classes, the real omnistock of this session behind them.

Set OMNISTOCK_SCREENSHOTS=1 to (re)write the README's screenshots under docs/prestashop/.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from tests.prestashop.omnistock_server import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "docs" / "prestashop"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, harness: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=harness["url"])
    p = context.new_page()
    p.set_default_timeout(15000)
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    html = p.content()
    context.close()
    assert errors == [], errors
    for php_error in ("Deprecated:", "Warning:", "Notice:", "Fatal error:"):
        assert php_error not in html, "PHP reported an error in the page"
    log = harness["log"].read_text()
    for php_error in ("PHP Deprecated", "PHP Warning", "PHP Notice", "PHP Fatal"):
        assert php_error not in log, log[-2000:]


def shot(page: Any, name: str, selector: str) -> None:
    if os.environ.get("OMNISTOCK_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(selector).screenshot(path=str(SHOTS / name))


def down(harness: dict[str, Any], on: bool) -> None:
    urllib.request.urlopen(f"{harness['url']}/__down?on={int(on)}", timeout=5).read()


def available(harness: dict[str, Any], sku: str, store: str) -> int:
    info = harness["omnistock"]
    request = urllib.request.Request(
        f"{info['url']}/v1/availability",
        data=json.dumps({"lines": [{"sku": sku}], "stores": [store]}).encode(),
        headers={
            "Authorization": f"Bearer {info['keys']['storefront']}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return int(json.loads(answer.read())["lines"][0]["stores"][0]["available"])


def store_rows(page: Any) -> list[tuple[str, str]]:
    rows = page.locator(".omnistock-store")
    return [
        (
            rows.nth(i).get_attribute("data-store-id"),
            " ".join(rows.nth(i).locator(".omnistock-status").inner_text().split()),
        )
        for i in range(rows.count())
    ]


def test_product_page_stores_and_combination_change(page: Any, harness: dict[str, Any]) -> None:
    down(harness, False)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/module/omnistock/" in r.url else None)
    page.goto("/product?id_product=1&id_product_attribute=1")
    page.wait_for_selector(".js-omnistock-availability[data-state=ready]")
    assert page.locator(".js-omnistock-reserve").is_hidden()
    rows = store_rows(page)
    # Nearest first among stores with stock (Paris 0 km, then Lyon and the 4th store by
    # distance), low stock said, the nearest store without any after them; 4 stores at most.
    assert rows[0] == ("S001", "In stock")
    assert ("S002", "Only 2 left") in rows
    assert len(rows) == 4
    assert rows[3][1] == "Out of stock" and rows[3][0] not in ("S001", "S002", "S004")
    assert page.locator(".omnistock-asof").first.inner_text().startswith("as of ")
    assert len(requests) == 1, "one batched call for the page"
    shot(page, "product-page.png", "main")

    page.select_option(".js-combination", "2")
    page.wait_for_selector(
        ".js-omnistock-availability[data-id-product-attribute='2'][data-state=ready]"
    )
    rows = store_rows(page)
    assert [r[0] for r in rows[:2]] == ["S002", "S003"] or [r[0] for r in rows[:2]] == [
        "S003",
        "S002",
    ]
    assert ("S001", "Out of stock") in rows
    assert len(requests) == 2

    # A postcode instead of a position: the stores near Lyon come first.
    page.fill(".js-omnistock-postcode [name=postcode]", "69007")
    page.click(".js-omnistock-postcode button[type=submit]")
    page.wait_for_function(
        "document.querySelector('.omnistock-store') &&"
        " document.querySelector('.omnistock-store').dataset.storeId === 'S002'"
    )
    assert len(requests) == 3


def test_reserve_in_store_holds_stock(page: Any, harness: dict[str, Any]) -> None:
    down(harness, False)
    before = available(harness, "SN00001-ROU-39", "S003")
    page.goto("/product?id_product=1&id_product_attribute=2")
    page.wait_for_selector(".js-omnistock-availability[data-state=ready]")
    page.click(".omnistock-store[data-store-id=S003] .js-omnistock-reserve-open")
    form = page.locator(".js-omnistock-reserve")
    assert form.is_visible()
    assert page.locator(".js-omnistock-reserve-store").inner_text() == "· Omnistock Marseille"
    page.click(".js-omnistock-reserve button[type=submit]")
    page.wait_for_selector(".js-omnistock-message:text('check the highlighted')")
    assert form.locator("[name=email][aria-invalid=true]").count() == 1
    form.locator("[name=first_name]").fill("Ana")
    form.locator("[name=last_name]").fill("Martin")
    form.locator("[name=email]").fill("ana@example.com")
    form.locator("[name=quantity]").fill("2")
    form.locator("[name=consent]").check()
    page.click(".js-omnistock-reserve button[type=submit]")
    code = page.wait_for_selector(".js-omnistock-code").inner_text()
    assert len(code) >= 6 and code.isalnum()
    assert available(harness, "SN00001-ROU-39", "S003") == before - 2
    assert page.locator(".js-omnistock-reserve").is_hidden()
    shot(page, "reservation.png", "main")


def test_product_page_works_when_omnistock_is_down(page: Any, harness: dict[str, Any]) -> None:
    down(harness, True)
    try:
        started = time.monotonic()
        page.goto("/product?id_product=1&id_product_attribute=1")
        page.wait_for_selector(".js-omnistock-availability[data-state=unknown]")
        assert time.monotonic() - started < 5
        assert "Store stock is unknown right now" in page.inner_text(".js-omnistock-stores")
        assert page.locator(".add-to-cart").is_enabled()
    finally:
        down(harness, False)


def test_checkout_store_chooser_whole_basket_and_continue(
    page: Any, harness: dict[str, Any]
) -> None:
    down(harness, False)
    page.goto("/checkout?cart=1:1:3,2:0:1")
    page.click("text=Click and collect")
    page.wait_for_selector(".js-omnistock-carrier[data-state=ready]")
    stores = page.locator(".js-omnistock-choose")
    ids = [stores.nth(i).get_attribute("data-store-id") for i in range(stores.count())]
    assert ids == ["S001", "S004"], "only stores with the whole cart, nearest first"
    assert "cannot serve your whole cart" in page.inner_text(".omnistock-excluded")

    page.click("button[name=confirmDeliveryOption]")
    page.wait_for_selector(".js-checkout-errors:text('choose the store')")
    assert page.locator(".js-next-step").is_hidden()

    page.click(".js-omnistock-choose[data-store-id=S004]")
    page.wait_for_selector(".js-omnistock-choose[data-store-id=S004][aria-pressed=true]")
    assert "Omnistock" in page.inner_text(".js-omnistock-chosen-name")

    # The choice is the cart's (server side): a reload shows it.
    page.reload()
    page.click("text=Click and collect")
    page.wait_for_selector(".js-omnistock-choose[data-store-id=S004][aria-pressed=true]")
    assert page.locator(".js-omnistock-chosen").is_visible()
    shot(page, "checkout-store-chooser.png", "#checkout-delivery-step")

    # Switching carrier and back keeps the chosen store.
    page.click("text=Home delivery")
    page.click("text=Click and collect")
    page.wait_for_selector(".js-omnistock-choose[data-store-id=S004][aria-pressed=true]")
    page.click("button[name=confirmDeliveryOption]")
    page.wait_for_selector(".js-next-step:not([hidden])")

    # A cart the chosen store can no longer serve: Continue is blocked again.
    page.goto("/checkout?cart=1:1:7,2:0:1")
    page.click("text=Click and collect")
    page.wait_for_selector(".js-omnistock-carrier[data-state=ready]")
    stores = page.locator(".js-omnistock-choose")
    assert [stores.nth(i).get_attribute("data-store-id") for i in range(stores.count())] == ["S001"]


def test_checkout_when_omnistock_is_down(page: Any, harness: dict[str, Any]) -> None:
    page.goto("/checkout?cart=2:0:1")
    down(harness, True)
    try:
        page.click("text=Click and collect")
        page.reload()
        page.click("text=Click and collect")
        page.wait_for_selector(".js-omnistock-carrier[data-state=unknown]")
        assert "click and collect is unavailable" in page.inner_text(".js-omnistock-carrier")
        page.click("button[name=confirmDeliveryOption]")
        page.wait_for_selector(".js-checkout-errors:not([hidden])")
        # Home delivery still goes through.
        page.click("text=Home delivery")
        page.click("button[name=confirmDeliveryOption]")
        page.wait_for_selector(".js-next-step:not([hidden])")
    finally:
        down(harness, False)
