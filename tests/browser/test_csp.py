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
    found += await _visit(page, errors, shots, [
        "/", "/search?q=健身", f"/offers/{world.offers['public']}", "/vouchers", "/me", "/points"])
    await page.context.close()
    assert not found, found


async def test_provider_pages_satisfy_the_csp(browser, live_server, world, shots):
    page, errors = await _page(browser, live_server, PHONE)
    await _sign_in(page, "/provider/login", world.providers["chaoyang"]["owner"])
    found = await _visit(page, errors, shots, [
        "/provider/", "/provider/offers", f"/provider/offers/{world.offers['public']}", "/provider/counter",
        "/provider/scorecard", "/provider/settlements"])
    await page.context.close()
    assert not found, found


async def test_console_pages_satisfy_the_csp(browser, live_server, world, shots):
    page, errors = await _page(browser, live_server, CONSOLE)
    await _sign_in(page, "/console/login", world.operators["beijing"])
    found = await _visit(page, errors, shots, [
        "/console/", "/console/listings", "/console/providers", "/console/reports", "/console/scorecards",
        "/console/audit", "/api/docs"])
    await page.context.close()
    assert not found, found
