"""The OpenAPI docs render in a browser from locally served Swagger UI (no CDN)."""

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def test_api_docs_render_offline(desktop_page: Page, shots):
    page = desktop_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto("/api/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Benefits marketplace API")
    await expect(page.locator(".opblock-summary-path").first).to_be_visible()
    await shots.take(page, "api-docs")
    base = page.url.split("/api/docs")[0]
    assert all(url.startswith(base) for url in requested), [u for u in requested if not u.startswith(base)]
