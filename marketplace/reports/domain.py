"""Reports: what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/reports",
    routes=[
        "marketplace.reports.controllers",
        "marketplace.reports.pages",
    ],
    actors=[
        "marketplace.reports.actors",
    ],
)
