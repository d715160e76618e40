"""Points (grants, balances, expiry): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/points",
    routes=[
        "marketplace.points.controllers",
        "marketplace.points.pages",
    ],
    actors=[
        "marketplace.points.actors",
    ],
)
