"""The member's inbox: what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "marketplace/inbox",
    routes=[
        "marketplace.inbox.pages",
    ],
)
