import pytest

from tests.catalog.search.builders import drop_index


@pytest.fixture(autouse=True)
async def no_leftover_search_index():
    """These tests write their offers straight into the database, not through the outbox
    that indexes them (as tests/journeys do). An index another test file left behind
    (tests/catalog/search) would answer with its own offers and categories, so each test
    starts with none and search answers from PostgreSQL."""
    await drop_index()
