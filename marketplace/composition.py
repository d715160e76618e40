"""The one list of the app's domains. Importing this module registers each domain's
declaration (its `domain.py`) with marketplace.core.domains; the web app takes the routes,
templates and translations from there, the worker and the scheduler the actors and their
periodic jobs. Adding a domain is one line here (docs/architecture.md).
"""

from pathlib import Path

from catalog import domain as catalog
from catalog.search import domain as search
from evaluation import domain as evaluation
from marketplace.campaigns import domain as campaigns
from marketplace.core import domain as core, domains
from marketplace.draws import domain as draws
from marketplace.favourites import domain as favourites
from marketplace.inbox import domain as inbox
from marketplace.payments import domain as payments
from marketplace.points import domain as points
from marketplace.prepaid import domain as prepaid
from marketplace.privacy import domain as privacy
from marketplace.reports import domain as reports
from marketplace.vouchers import domain as vouchers
from providers import domain as providers

# The foundation first: its layouts and catalogs come before the domains' own.
DOMAINS = [
    core.DOMAIN,
    providers.DOMAIN,
    catalog.DOMAIN,
    search.DOMAIN,
    evaluation.DOMAIN,
    vouchers.DOMAIN,
    points.DOMAIN,
    payments.DOMAIN,
    campaigns.DOMAIN,
    favourites.DOMAIN,
    privacy.DOMAIN,
    reports.DOMAIN,
    inbox.DOMAIN,
    draws.DOMAIN,
    prepaid.DOMAIN,
]

for _domain in DOMAINS:
    domains.register(_domain)


def message_catalogs() -> list[str]:
    """`package:translations folder:sub-packages left out` of every domain with catalogs,
    for `make messages` (a sub-package with catalogs of its own, as catalog/search, is not
    extracted into its parent's)."""
    catalogs = domains.translation_dirs()
    repo = Path(__file__).resolve().parents[1]
    return [
        f"{name}:{folder.relative_to(repo)}:"
        + ",".join(other.rsplit("/", 1)[-1] for other in catalogs if other.startswith(name + "/"))
        for name, folder in catalogs.items()
    ]
