"""The browser fixtures live in tests/browser/conftest.py; importing them here makes them
available to tests/catalog/test_browser.py."""

from tests.browser.conftest import browser, desktop_page, shots, static_assets  # noqa: F401
