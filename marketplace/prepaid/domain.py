"""Prepaid Guard (packages in escrow, release per session, refunds): what it brings to the
app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/prepaid",
    routes=[
        "marketplace.prepaid.pages",
    ],
    actors=[
        "marketplace.prepaid.actors",
    ],
)
