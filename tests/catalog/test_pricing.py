"""The one price model (catalog/pricing.py): what a member pays is the member price less the
union's subsidy, the same number the payment charges; points offers cost points."""

import pytest
from hypothesis import given, strategies as st

from catalog import pricing
from marketplace.core import money

pytestmark = pytest.mark.unit


def test_the_member_pays_the_member_price_less_the_subsidy():
    # The defect of issue 12: the offer's button said ¥238.90 (the member price) while the
    # payment charged ¥201.90 (the member price less the union's ¥37 subsidy).
    price = pricing.price("paid", 29900, 23890, 3700)
    assert price.pays_fen == 20190 == pricing.member_pays_fen(23890, 3700)
    assert (price.list_fen, price.subsidy_fen, price.struck_fen) == (29900, 3700, 29900)
    assert price.discount_fen == 29900 - 23890  # the provider's own discount
    assert price.points is None and not price.free
    assert money.yuan(price.pays_fen) == "¥201.90"


def test_points_offers_cost_points_never_free():
    price = pricing.price_of(
        {"kind": "points", "list_price_fen": 5900, "member_price_fen": 0, "subsidy_fen": 0, "points_price": 540}
    )
    assert (price.points, price.pays_fen, price.free) == (540, 0, False)
    assert price.discount_fen == 0
    # A points price on another kind of offer is not a price in points.
    assert pricing.price("voucher", 100, 0, 0, 540).points is None


def test_a_free_voucher_is_free_and_a_discount_voucher_is_paid_at_the_counter():
    assert pricing.price("voucher", 5000, 0, 0).free
    counter = pricing.price("voucher", 19900, 9900, 3000)
    assert (counter.pays_fen, counter.free) == (6900, False)


def test_a_paid_voucher_shows_what_was_charged():
    # The provider raised its price after the member paid: the voucher shows the charge.
    assert pricing.price("paid", 29900, 25000, 3700, paid_fen=20190).pays_fen == 20190


def test_price_of_reads_rows_and_objects_alike():
    class Hit:
        kind, list_price_fen, member_price_fen, subsidy_fen, points_price = "paid", 19900, 9900, 3000, None

    row = {"kind": "paid", "list_price_fen": 19900, "member_price_fen": 9900, "subsidy_fen": 3000}
    assert pricing.price_of(Hit()) == pricing.price_of(row) == pricing.price("paid", 19900, 9900, 3000)


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**7))
def test_nobody_pays_less_than_nothing_or_more_than_the_member_price(list_fen, member_fen, subsidy_fen):
    price = pricing.price("paid", list_fen, member_fen, subsidy_fen)
    assert 0 <= price.pays_fen <= member_fen
    assert price.struck_fen is None or price.struck_fen > price.pays_fen


@pytest.mark.parametrize(
    "fen, text", [(0, "¥0"), (1200, "¥12"), (1250, "¥12.50"), (20190, "¥201.90"), (5, "¥0.05"), (-3700, "-¥37")]
)
def test_yuan(fen, text):
    assert money.yuan(fen) == text
