"""Fair draws: what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/draws",
    routes=[
        "marketplace.draws.controllers",
        "marketplace.draws.pages",
    ],
    actors=[
        "marketplace.draws.actors",
    ],
)
