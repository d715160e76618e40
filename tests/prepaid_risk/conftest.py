from tests.browser.conftest import browser, new_phone_page, phone_page, shots, static_assets  # noqa: F401
