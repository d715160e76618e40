"""The Content-Security-Policy holds on the main pages of every audience: a real browser
loads them and records no violation (`securitypolicyviolation` events, console errors)."""

import pytest
from playwright.async_api import Page

from tests.browser.conftest import PHONE, _context
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

CONSOLE = {"viewport": {"width": 1440, "height": 900}}
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


async def _page(browser, live_server, device) -> tuple[Page, list[str]]:
    context = await _context(browser, live_server, device)
    context.set_default_timeout(45_000)  # a shared, busy machine: searching can take seconds
    await context.add_init_script(WATCH)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def _visit(page: Page, errors: list[str], shots, paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        response = await page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        assert "frame-ancestors 'none'" in (response.headers.get("content-security-policy") or "")
        await page.wait_for_load_state("load")
        await shots.take(page, path.strip("/").replace("/", "_").split("?")[0] or "home")
        found += [f"{path}: {v}" for v in await page.evaluate("window.__cspViolations")]
        found += [f"{path}: console: {e}" for e in errors if "Content Security Policy" in e or "Refused" in e]
        errors.clear()
    return found


async def _sign_in(page: Page, path: str, username: str) -> None:
    await page.goto(path)
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("[data-testid=login-submit]")


async def test_member_pages_satisfy_the_csp(browser, live_server, world, shots):
    page, errors = await _page(browser, live_server, PHONE)
    found = await _visit(page, errors, shots, ["/", "/login"])
    await _sign_in(page, "/login", world.members["chaoyang"][1])
    found += await _visit(
        page, errors, shots, ["/", "/search?q=健身", f"/offers/{world.offers['public']}", "/vouchers", "/me", "/points"]
    )
    await page.context.close()
    assert not found, found


async def test_provider_pages_satisfy_the_csp(browser, live_server, world, shots):
    page, errors = await _page(browser, live_server, PHONE)
    await _sign_in(page, "/provider/login", world.providers["chaoyang"]["owner"])
    found = await _visit(
        page,
        errors,
        shots,
        [
            "/provider/",
            "/provider/offers",
            f"/provider/offers/{world.offers['public']}",
            "/provider/counter",
            "/provider/scorecard",
            "/provider/settlements",
        ],
    )
    await page.context.close()
    assert not found, found


async def test_console_pages_satisfy_the_csp(browser, live_server, world, shots):
    page, errors = await _page(browser, live_server, CONSOLE)
    await _sign_in(page, "/console/login", world.operators["beijing"])
    found = await _visit(
        page,
        errors,
        shots,
        [
            "/console/",
            "/console/listings",
            "/console/providers",
            "/console/reports",
            "/console/scorecards",
            "/console/audit",
            "/api/docs",
        ],
    )
    await page.context.close()
    assert not found, found


async def test_the_stripe_stand_in_pay_page_satisfies_the_csp(browser, live_server, world, shots):
    """The pay page loads Stripe.js from the stand-in's origin and draws its test card form."""
    from catalog.tables import Offer
    from marketplace.core.federation import services as federation
    from marketplace.payments import services as payments

    offer_id = world.offers["public"]
    await Offer.update({Offer.kind: "paid"}).where(Offer.id == offer_id)
    payment = await payments.start(await federation.member_principal(world.members["chaoyang"][0]), offer_id)
    page, errors = await _page(browser, live_server, PHONE)
    await _sign_in(page, "/login", world.members["chaoyang"][1])
    found = await _visit(page, errors, shots, [f"/payments/{payment.id}"])
    assert await page.evaluate("typeof window.Stripe") == "function", "Stripe.js did not load"
    await page.fill("[data-testid=card-number]", "4242 4242 4242 4242")
    await page.fill("[data-testid=card-expiry]", "12/30")
    await page.fill("[data-testid=card-cvc]", "123")
    await page.click("[data-testid=pay]")
    await page.wait_for_selector("[data-testid=payment-success]")
    await shots.take(page, "paid")
    found += [v for v in await page.evaluate("window.__cspViolations")]
    found += [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    await page.context.close()
    assert not found, found
