"""Playwright on Debian's chromium, driven with the async API in the session's event
loop (pytest-asyncio, asyncio_mode=auto), against the `live_server` of tests/conftest.py.

Every page a test visits is saved as a full-page screenshot under
tests/artifacts/screenshots/<test>-<step>.png, for people to look at.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Native widgets (file pickers, date inputs) speak the members' language, as on their phones:
# chromium takes its interface language from the environment (with Debian's chromium-l10n).
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

# How long a page action (a click, a navigation) and an `expect` wait before they fail. Both
# return as soon as the page is ready, so a passing test takes no longer for them; they
# are long because two test workers, their live servers, chromium and the engines share
# two cores, where a page that takes 50 ms alone can take several seconds.
PAGE_TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def static_assets():
    """htmx is vendored at setup time, not committed; make sure it is there."""
    from marketplace.runtime import npm_assets

    npm_assets.install_static_assets()


@pytest.fixture(scope="session")
async def browser(static_assets) -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=CHROMIUM_ENV)
        yield browser
        await browser.close()


async def _context(browser: Browser, base_url: str, device: dict) -> BrowserContext:
    context = await browser.new_context(base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai", **device)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context


class Screenshots:
    """`await shots.take(page, "login")` → tests/artifacts/screenshots/<test>-01-login.png"""

    def __init__(self, test_name: str):
        self.prefix = re.sub(r"[^\w.-]+", "_", test_name)
        self.count = 0
        self.taken: list[Path] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{self.prefix}-*.png"):
            old.unlink()

    async def take(self, page: Page, step: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        await page.wait_for_load_state("load")
        # A "full page" shot by growing the viewport to the document's height, so that
        # fixed bars (the member tab bar) sit at the bottom as on a real screen instead of
        # floating where the first screen ended.
        viewport = page.viewport_size
        height = await page.evaluate("document.documentElement.scrollHeight")
        if viewport and height > viewport["height"]:
            await page.set_viewport_size({"width": viewport["width"], "height": height})
            await page.screenshot(path=str(path))
            await page.set_viewport_size(viewport)
        else:
            await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(request.node.name)


def _watch(page: Page) -> list[str]:
    """Collect JavaScript errors and failed same-origin requests (a missing htmx, CSS, ...)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A request the browser itself aborts (it left the page) is not a fault of the page.
    page.on(
        "requestfailed",
        lambda req: (
            None if req.failure == "net::ERR_ABORTED" else problems.append(f"request failed: {req.url} ({req.failure})")
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status}: {response.url}")
            if "/static/" in response.url and response.status >= 400
            else None
        ),
    )
    page.problems = problems  # type: ignore[attr-defined]
    return problems


@pytest.fixture
async def phone_page(browser, live_server) -> Page:
    """A phone-sized page (390x844), as members use the site."""
    context = await _context(browser, live_server, PHONE)
    page = await context.new_page()
    _watch(page)
    yield page
    await context.close()
    assert not page.problems, page.problems


@pytest.fixture
async def desktop_page(browser, live_server) -> Page:
    """A desktop page (1280x800), for the provider portal, console and evaluator desk."""
    context = await _context(browser, live_server, DESKTOP)
    page = await context.new_page()
    _watch(page)
    yield page
    await context.close()
    assert not page.problems, page.problems


@pytest.fixture
async def new_phone_page(browser, live_server):
    """Factory of further phone-sized pages (e.g. the provider portal on a phone)."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    async def make() -> Page:
        context = await _context(browser, live_server, PHONE)
        contexts.append(context)
        page = await context.new_page()
        _watch(page)
        pages.append(page)
        return page

    yield make
    for context in contexts:
        await context.close()
    problems = [problem for page in pages for problem in page.problems]
    assert not problems, problems
