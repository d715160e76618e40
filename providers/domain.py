"""Providers and their settlements: what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "providers",
    routes=[
        "providers.controllers",
        "providers.pages",
        "providers.settlements.controllers",
        "providers.settlements.pages",
    ],
    actors=[
        "providers.actors",
        "providers.settlements.actors",
    ],
)
