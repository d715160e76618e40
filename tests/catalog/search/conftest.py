import pytest

from catalog.search import index
from tests.browser.conftest import browser, phone_page, shots, static_assets  # noqa: F401  (browser fixtures)
from tests.catalog.search import builders


@pytest.fixture
async def offers(world):
    """The world's offers and a few more, in a fresh index. Afterwards the index is
    dropped, so that other tests fall back to the database rather than see these."""
    await builders.fresh_index()
    offers = await builders.catalogue(world)
    await index.reconcile()
    yield offers
    await builders.drop_index()
