"""Privacy (member cards, erasure, the audit log): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/privacy",
    routes=[
        "marketplace.privacy.controllers",
        "marketplace.privacy.pages",
    ],
    actors=[
        "marketplace.privacy.actors",
    ],
)
