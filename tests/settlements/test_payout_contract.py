"""One contract for every PayoutGateway: the in-process fake the demo uses, and the Stripe
Connect one against a stand-in of Stripe's Transfers API (tests/settlements/stripe_transfers.py)
that checks each request the way Stripe does."""

import httpx
import pytest

from providers.settlements.payouts import (
    FakePayoutGateway,
    PayoutOrder,
    PayoutRefused,
    PayoutUnavailable,
    StripeConnectGateway,
)
from tests.settlements.stripe_transfers import API_KEY, StripeTransfers

pytestmark = pytest.mark.unit  # no database; the Stripe stand-in is a local HTTP server

KNOWN, UNKNOWN = "acct_1Nv0FGQ9RKHgCVdK", "acct_1Missing0000000"


def order(statement_id=41, amount_fen=12_345, account=KNOWN) -> PayoutOrder:
    return PayoutOrder(
        statement_id=statement_id, provider_id=7, period="2026-11", account=account, amount_fen=amount_fen
    )


class Fake:
    def __init__(self):
        self.gateway = FakePayoutGateway(accounts={KNOWN})

    def transfers(self) -> list[dict]:
        return list(self.gateway.transfers.values())


class Stripe:
    def __init__(self, server: StripeTransfers):
        self.server = server
        self.gateway = StripeConnectGateway(API_KEY, server.url, max_network_retries=0, timeout_seconds=5)

    def transfers(self) -> list[dict]:
        return self.server.transfers


@pytest.fixture
async def stripe_server():
    server = StripeTransfers(accounts={KNOWN})
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], "requests Stripe would refuse"


@pytest.fixture(params=["fake", "stripe"])
async def implementation(request, stripe_server):
    return Fake() if request.param == "fake" else Stripe(stripe_server)


async def test_a_payout_transfers_the_amount_in_fen_of_cny_to_the_account(implementation):
    reference = await implementation.gateway.pay(order())
    assert reference.startswith("tr_")
    [transfer] = implementation.transfers()
    assert (transfer["id"], transfer["amount"], transfer["currency"], transfer["destination"]) == (
        reference,
        12_345,
        "cny",
        KNOWN,
    )


async def test_paying_the_same_statement_again_pays_once(implementation):
    first = await implementation.gateway.pay(order())
    assert await implementation.gateway.pay(order()) == first
    assert len(implementation.transfers()) == 1


async def test_other_statements_are_other_transfers(implementation):
    references = {await implementation.gateway.pay(order(statement_id=n, amount_fen=100 * n)) for n in (1, 2, 3)}
    assert len(references) == 3
    assert sorted(t["amount"] for t in implementation.transfers()) == [100, 200, 300]


async def test_a_statement_paid_with_another_amount_is_refused(implementation):
    await implementation.gateway.pay(order(amount_fen=500))
    with pytest.raises(PayoutRefused) as refused:
        await implementation.gateway.pay(order(amount_fen=600))
    assert refused.value.code == "payout_key_reused" and refused.value.status == 409
    assert [t["amount"] for t in implementation.transfers()] == [500]


async def test_an_unknown_account_is_refused_and_nothing_is_paid(implementation):
    with pytest.raises(PayoutRefused) as refused:
        await implementation.gateway.pay(order(account=UNKNOWN))
    assert refused.value.code == "payout_refused" and refused.value.extra["stripe_code"] == "resource_missing"
    assert implementation.transfers() == []


def test_an_order_is_a_positive_amount():
    with pytest.raises(ValueError):
        order(amount_fen=0)


# What only the Stripe implementation can show ---------------------------------------------------


async def test_the_request_is_what_stripes_api_expects(stripe_server):
    await Stripe(stripe_server).gateway.pay(order(statement_id=77, amount_fen=990))
    [request] = stripe_server.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/transfers")
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["Idempotency-Key"] == "settlement-statement-77"
    form = dict(httpx.QueryParams(request["body"]))
    assert form["amount"] == "990" and form["currency"] == "cny" and form["destination"] == KNOWN
    assert form["metadata[statement_id]"] == "77" and form["metadata[period]"] == "2026-11"
    assert form["transfer_group"] == "settlement-77"


async def test_a_server_error_is_unavailable_and_a_retry_with_the_same_key_pays_once(stripe_server):
    stripe = Stripe(stripe_server)
    stripe_server.fail_next = [500]
    with pytest.raises(PayoutUnavailable) as failed:
        await stripe.gateway.pay(order())
    assert failed.value.status == 503 and stripe_server.transfers == []
    reference = await stripe.gateway.pay(order())
    assert [t["id"] for t in stripe_server.transfers] == [reference]
    keys = {request["headers"]["Idempotency-Key"] for request in stripe_server.requests}
    assert keys == {"settlement-statement-41"}


async def test_the_sdk_retries_a_transient_error_under_the_same_key(stripe_server):
    stripe_server.fail_next = [503]
    gateway = StripeConnectGateway(API_KEY, stripe_server.url, max_network_retries=2, timeout_seconds=5)
    reference = await gateway.pay(order())
    assert len(stripe_server.requests) == 2 and [t["id"] for t in stripe_server.transfers] == [reference]
    assert len({request["headers"]["Idempotency-Key"] for request in stripe_server.requests}) == 1


async def test_an_unreachable_stripe_is_unavailable():
    from marketplace.runtime import components

    gateway = StripeConnectGateway(
        API_KEY, f"http://127.0.0.1:{components.free_port()}", max_network_retries=0, timeout_seconds=2
    )
    with pytest.raises(PayoutUnavailable):
        await gateway.pay(order())


async def test_a_wrong_key_is_not_a_refusal_of_the_payout(stripe_server):
    gateway = StripeConnectGateway("sk_test_wrong", stripe_server.url, max_network_retries=0)
    with pytest.raises(PayoutUnavailable):
        await gateway.pay(order())
    assert stripe_server.transfers == []
    stripe_server.violations.clear()  # the stand-in refused it as Stripe would: that was the point


async def test_the_stand_in_refuses_what_stripe_would_refuse(stripe_server):
    """The checks above are only worth something if the stand-in can say no."""
    async with httpx.AsyncClient(base_url=stripe_server.url) as http:
        auth = {"Authorization": f"Bearer {API_KEY}", "Stripe-Version": "2025-01-01"}
        body = {"amount": "100", "currency": "cny", "destination": KNOWN}
        assert (await http.post("/v1/transfers", data=body, headers=auth)).status_code == 400  # no key
        assert (
            await http.post("/v1/transfers", data={**body, "amount": "1.5"}, headers={**auth, "Idempotency-Key": "k"})
        ).status_code == 400
        assert (
            await http.post("/v1/transfers", data={**body, "currency": "CNY"}, headers={**auth, "Idempotency-Key": "k"})
        ).status_code == 400
        assert (
            await http.post("/v1/transfers", data={**body, "amout": "1"}, headers={**auth, "Idempotency-Key": "k"})
        ).status_code == 400
        assert (await http.post("/v1/payouts", data=body, headers={**auth, "Idempotency-Key": "k"})).status_code == 404
        assert (
            await http.post("/v1/transfers", json=body, headers={**auth, "Idempotency-Key": "k"})
        ).status_code == 400
    assert len(stripe_server.violations) == 6 and stripe_server.transfers == []
    stripe_server.violations.clear()
