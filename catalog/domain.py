"""The catalog (offers, their review, prices): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "catalog",
    routes=[
        "catalog.controllers",
        "catalog.listing_pages",
    ],
    actors=[
        "catalog.actors",
    ],
    # The providers' application keeps its business licence picture with catalog's picture checks.
    provides={"picture_store": "catalog.services:store_picture"},
)
