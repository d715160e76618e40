"""The browser fixtures, for the campaigns' browser test."""

from tests.browser.conftest import browser, phone_page, shots, static_assets  # noqa: F401
