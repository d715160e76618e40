import pytest

from providers.settlements import payouts


@pytest.fixture(autouse=True)
def fresh_payout_gateway():
    """The app's fake gateway keeps its transfers in memory; statement ids restart with every
    test's empty database, so each test starts with a fresh one."""
    payouts.configured_gateway.cache_clear()
    yield
    payouts.configured_gateway.cache_clear()
