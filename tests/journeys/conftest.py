import pytest

from tests.browser.conftest import browser, new_phone_page, phone_page, shots, static_assets  # noqa: F401
from tests.catalog.search.builders import drop_index


@pytest.fixture(autouse=True)
async def no_leftover_search_index():
    """Journeys write their offers straight into the database, not through the outbox that
    indexes them. An index another test file of this worker left behind would answer
    without them, so each journey starts with none and search answers from PostgreSQL."""
    await drop_index()
