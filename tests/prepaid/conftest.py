from tests.browser.conftest import browser, phone_page, shots, static_assets  # noqa: F401
