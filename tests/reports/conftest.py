"""The browser fixtures, for the reports' browser test."""

from tests.browser.conftest import browser, desktop_page, shots, static_assets  # noqa: F401
