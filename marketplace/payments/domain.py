"""Payments (Stripe, refunds, disputes): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/payments",
    routes=[
        "marketplace.payments.controllers",
        "marketplace.payments.pages",
    ],
    actors=[
        "marketplace.payments.actors",
    ],
)
