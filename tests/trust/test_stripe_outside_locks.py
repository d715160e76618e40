"""The Stripe call of a purchase runs outside any database transaction: while Stripe is
being asked for a PaymentIntent, another session can lock the offer's row at once.

The call goes to the real Stripe stand-in; the test only watches it (a wrapper around
the SDK's client that probes the offer's row lock with NOWAIT before passing the call on).
"""

import asyncpg
import pytest

from marketplace.core.db import engine
from marketplace.payments import services as payments
from tests.payments.test_payments import paid_offer
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def _watch_stripe(monkeypatch, offer_id: int) -> list[str]:
    seen: list[str] = []
    real_client = payments.stripe_client

    class Watched:
        def __init__(self, inner):
            self._inner = inner

        async def create_async(self, *args, **kwargs):
            import os

            in_transaction = engine().current_transaction.get() is not None
            probe = await asyncpg.connect(os.environ["DATABASE_URL"])
            try:
                async with probe.transaction():
                    await probe.execute("SELECT id FROM offer WHERE id = $1 FOR UPDATE NOWAIT", offer_id)
                seen.append("in a transaction" if in_transaction else "free")
            except asyncpg.LockNotAvailableError:
                seen.append("offer row locked")
            finally:
                await probe.close()
            return await self._inner.create_async(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self._inner, name)

    def client():
        inner = real_client()
        wrapped = type("V1", (), {})()
        wrapped.payment_intents = Watched(inner.v1.payment_intents)
        wrapped.refunds = inner.v1.refunds
        holder = type("Client", (), {})()
        holder.v1 = wrapped
        return holder

    monkeypatch.setattr(payments, "stripe_client", client)
    return seen


@pytest.mark.parametrize("with_key", [True, False])
async def test_the_api_purchase_calls_stripe_with_no_row_locked(client, world, monkeypatch, with_key):
    offer_id = await paid_offer(world)
    seen = _watch_stripe(monkeypatch, offer_id)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    if with_key:
        headers["Idempotency-Key"] = "buy-once-1"
    response = await client.post(f"/api/v1/offers/{offer_id}/payments", headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["client_secret"].startswith("pi_")
    assert seen == ["free"], seen
    if with_key:  # the same key again: the same payment, and no second intent
        again = await client.post(f"/api/v1/offers/{offer_id}/payments", headers=headers)
        assert again.status_code == 201 and again.json()["id"] == response.json()["id"], again.text
        assert again.json()["client_secret"] == response.json()["client_secret"]
        assert seen == ["free"], seen


async def test_the_web_purchase_calls_stripe_with_no_row_locked(client, world, monkeypatch):
    from tests.factories import PASSWORD

    offer_id = await paid_offer(world)
    seen = _watch_stripe(monkeypatch, offer_id)
    await client.get("/login")
    await client.post(
        "/login",
        data={
            "username": world.members["chaoyang"][1],
            "password": PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
    )
    response = await client.post(
        f"/offers/{offer_id}/pay",
        headers={"accept": "text/html"},
        data={"idempotency_key": "web-buy-1", "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303) and "/payments/" in response.headers["location"], response.text
    assert seen == ["free"], seen
