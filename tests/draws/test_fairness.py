"""The draw's order is a function of (seed, entries) only, weights work as published, and
tampering with the seed or the order is caught by the verification."""

import random

import pytest

from marketplace.draws import fairness, services

pytestmark = pytest.mark.unit

SEED = "5f" * 32


def test_the_same_seed_and_entries_give_the_same_order_whatever_the_input_order():
    entries = [(str(ticket), 1 + ticket % 3) for ticket in range(1, 2001)]
    first = [entry.ticket for entry in fairness.order(SEED, entries)]
    for attempt in range(5):
        shuffled = entries[:]
        random.Random(attempt).shuffle(shuffled)
        assert [entry.ticket for entry in fairness.order(SEED, shuffled)] == first
    assert sorted(first, key=int) == [ticket for ticket, _ in entries]  # everyone ranked once
    other = [entry.ticket for entry in fairness.order("6a" * 32, entries)]
    assert other != first  # another seed, another order


def test_the_order_is_the_documented_function():
    """The module's docstring, written out by hand for one entry."""
    import hashlib
    import hmac
    import math

    mac = hmac.new(SEED.encode(), b"42", hashlib.sha256).digest()
    u = (int.from_bytes(mac[:6], "big") + 0.5) / 2**48
    (ranked,) = fairness.order(SEED, [("42", 3)])
    assert ranked.score == math.log(u) / 3 and ranked.mac_hex == mac.hex() and ranked.rank == 1
    assert fairness.seed_hash(SEED) == hashlib.sha256(SEED.encode()).hexdigest()


def test_weights_are_respected_statistically():
    """500 entries of weight 3 and 500 of weight 1, 100 places, over 60 seeds: weighted
    sampling without replacement gives the weight-3 entries about 74% of the places."""
    entries = [(str(ticket), 3 if ticket <= 500 else 1) for ticket in range(1, 1001)]
    heavy = 0
    for seed_number in range(60):
        winners, _ = fairness.split(fairness.order(f"{seed_number:064x}", entries), 100)
        heavy += sum(1 for entry in winners if entry.weight == 3)
    share = heavy / (60 * 100)
    assert 0.70 < share < 0.78, share
    # And without weights, each half gets about half.
    even = [(ticket, 1) for ticket, _ in entries]
    first_half = sum(
        int(entry.ticket) <= 500
        for seed_number in range(60)
        for entry in fairness.split(fairness.order(f"{seed_number:064x}", even), 100)[0]
    )
    assert 0.45 < first_half / 6000 < 0.55


def test_a_weight_outside_the_published_range_is_refused():
    with pytest.raises(ValueError):
        fairness.order(SEED, [("1", 11)])


def _result(entries, places=2):
    return {
        "draw": 1,
        "seed_hash": fairness.seed_hash(SEED),
        "seed": SEED,
        "places": places,
        "entries": entries,
        "order": [entry.ticket for entry in fairness.order(SEED, [(t, w) for t, w in entries])],
    }


def test_verification_catches_a_swapped_order_and_a_seed_that_was_not_committed():
    result = _result([[str(t), 1] for t in range(1, 30)])
    assert services.verify(result) == []
    swapped = {**result, "order": [result["order"][1], result["order"][0], *result["order"][2:]]}
    assert services.verify(swapped) == ["the published order differs from the recomputed one from position 1"]
    other_seed = {**result, "seed": "00" * 32}
    problems = services.verify(other_seed)
    assert "the seed does not match the hash published before the draw" in problems
    assert services.verify({**result, "seed": None}) == ["the seed is not revealed yet: the draw has not been run"]
