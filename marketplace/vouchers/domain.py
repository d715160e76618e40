"""Vouchers (claims, bookings, the counter): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/vouchers",
    routes=[
        "marketplace.vouchers.controllers",
        "marketplace.vouchers.pages",
    ],
    actors=[
        "marketplace.vouchers.actors",
    ],
)
