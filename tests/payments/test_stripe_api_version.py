"""The PaymentIntent a claim opens is one Stripe accepts at the API version stripe-python
pins (2026-10-28.endive): since 2026-09-30.endive, `payment_method_types` is refused with
`payment_method_types_no_longer_supported` and the types go in `allowed_payment_method_types`.
mypy found the old parameter (stripe's types no longer have it); the stand-in now refuses
it as Stripe does, so the payment tests would catch it again."""

import pytest
import stripe

from marketplace.payments.services import stripe_client
from tests.payments.stripe_helpers import intent

pytestmark = pytest.mark.integration


def test_the_sdk_pins_an_api_version_without_payment_method_types():
    assert stripe.api_version >= "2026-09-30"


async def test_the_stand_in_refuses_payment_method_types_as_stripe_does():
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await stripe_client().v1.payment_intents.create_async(
            {"amount": 6900, "currency": "cny", "payment_method_types": ["card"]}
        )
    assert refused.value.code == "payment_method_types_no_longer_supported"


async def test_the_stand_in_takes_the_allowed_payment_method_types():
    created = await stripe_client().v1.payment_intents.create_async(
        {"amount": 6900, "currency": "cny", "allowed_payment_method_types": ["card"]}
    )
    assert (await intent(created.id)).status == "requires_payment_method"
