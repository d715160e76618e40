"""The split of one use's subsidy between a campaign's funding nodes (marketplace/campaigns/
funding.py), by properties: parts are whole fen that add up to the subsidy, each within a fen
of its exact share, the same every time; no share ever pays more than its budget left."""

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from marketplace.campaigns import funding
from marketplace.campaigns.funding import Share

pytestmark = pytest.mark.unit

amounts = st.integers(min_value=0, max_value=10**7)


@st.composite
def percent_splits(draw, min_size=1, max_size=6):
    """Basis points of 1..6 percent shares adding up to 100 %."""
    size = draw(st.integers(min_value=min_size, max_value=max_size))
    cuts = sorted(
        draw(st.lists(st.integers(1, funding.FULL_BP - 1), min_size=size - 1, max_size=size - 1, unique=True))
    )
    edges = [0, *cuts, funding.FULL_BP]
    return [edges[i + 1] - edges[i] for i in range(size)]


@st.composite
def share_lists(draw):
    """Fixed and percent shares in any order, with budgets left."""
    percents = [Share("percent", percent_bp=bp) for bp in draw(percent_splits())]
    fixed = [Share("fixed", fixed_fen=fen) for fen in draw(st.lists(st.integers(1, 10**5), max_size=3))]
    shares = draw(st.permutations(percents + fixed))
    lefts = draw(st.lists(st.integers(0, 10**6), min_size=len(shares), max_size=len(shares)))
    return [Share(s.kind, s.percent_bp, s.fixed_fen, left) for s, left in zip(shares, lefts, strict=True)]


@given(amounts, st.lists(st.integers(0, 10**4), min_size=1, max_size=8).filter(lambda w: sum(w) > 0))
def test_largest_remainder_adds_up_and_stays_within_a_fen(total, weights):
    parts = funding.apportion(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, sum(weights))
        assert exact - 1 < part < exact + 1 and part >= 0
    assert funding.apportion(total, weights) == parts  # deterministic


@given(amounts, percent_splits())
def test_percent_shares_of_one_use_add_up_to_the_subsidy(amount, bps):
    parts = funding.split(amount, [Share("percent", percent_bp=bp) for bp in bps])
    assert sum(parts) == amount
    for part, bp in zip(parts, bps, strict=True):
        assert abs(part - Fraction(amount * bp, funding.FULL_BP)) < 1


@given(amounts, share_lists())
def test_fixed_shares_first_then_percent_shares_take_the_rest(amount, shares):
    parts = funding.split(amount, shares)
    assert sum(parts) == amount and min(parts) >= 0
    fixed = [i for i, share in enumerate(shares) if share.kind == "fixed"]
    rest = amount
    for i in fixed:  # in order, never more than what is left of the subsidy
        assert parts[i] == min(shares[i].fixed_fen, rest)
        rest -= parts[i]


@given(amounts, share_lists(), st.sampled_from(funding.POLICIES))
def test_no_share_pays_more_than_its_budget_left(amount, shares, policy):
    parts = funding.draw(amount, shares, policy)
    if parts is None:
        if policy == "cover":
            assert sum(share.left_fen for share in shares) < amount
        else:
            assert any(p > s.left_fen for p, s in zip(funding.split(amount, shares), shares, strict=True))
        return
    assert sum(parts) == amount
    assert all(0 <= part <= share.left_fen for part, share in zip(parts, shares, strict=True))
    if policy == "stop":
        assert parts == funding.split(amount, shares)  # stop never changes the shares
    assert funding.draw(amount, shares, policy) == parts


def test_three_ways_as_shanghai_funds_them():
    # 三个一点: city, district and grassroots union, a third each of ¥100.00: 33.34 + 33.33 + 33.33.
    thirds = [Share("percent", percent_bp=3334), Share("percent", percent_bp=3333), Share("percent", percent_bp=3333)]
    assert funding.split(10000, thirds) == [3334, 3333, 3333]
    # Equal weights share the odd fen in order: ¥0.01 over two halves goes to the first.
    halves = [Share("percent", percent_bp=5000), Share("percent", percent_bp=5000)]
    assert funding.split(1, halves) == [1, 0]
    # The city pays ¥10.00 per use, the district and grassroots split the rest 60/40.
    mixed = [Share("fixed", fixed_fen=1000), Share("percent", percent_bp=6000), Share("percent", percent_bp=4000)]
    assert funding.split(3001, mixed) == [1000, 1201, 800]


def test_cover_moves_the_shortfall_to_the_shares_with_budget():
    shares = [Share("percent", percent_bp=5000, left_fen=1000), Share("percent", percent_bp=5000, left_fen=10**6)]
    assert funding.draw(3000, shares, "stop") is None  # the first cannot pay 1500
    assert funding.draw(3000, shares, "cover") == [1000, 2000]
    assert funding.draw(3000, [Share("percent", percent_bp=10000, left_fen=2999)], "cover") is None
