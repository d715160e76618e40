"""Campaigns: what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/campaigns",
    routes=[
        "marketplace.campaigns.controllers",
        "marketplace.campaigns.pages",
    ],
    actors=[
        "marketplace.campaigns.actors",
    ],
)
