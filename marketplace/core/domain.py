"""The foundation's own pages, actors, layouts and catalogs, registered like any domain's.

Its translations are the catalogs of the whole `marketplace` package (the shell, the
member features and the foundation extract into one set: `make messages`).
"""

from pathlib import Path

from marketplace.core.domains import Domain

_HERE = Path(__file__).resolve().parent

DOMAIN = Domain(
    "marketplace",
    # The shared layouts and macros first, then identity's pages.
    templates=(_HERE / "web" / "templates", _HERE / "identity" / "templates"),
    translations=_HERE / "web" / "translations",
    routes=(
        "marketplace.core.identity.controllers",
        "marketplace.core.federation.controllers",
        "marketplace.core.web.pages",
        "marketplace.core.web.media_pages",
        "marketplace.core.federation.roster.pages",
        "marketplace.core.identity.team",
        "marketplace.core.identity.pages",
        "marketplace.core.identity.approval_pages",
    ),
    # Evaluators' sample export names only members who consented; evaluation never reads members.
    provides=(("member_contacts", "marketplace.core.federation.consent:evaluator_contacts"),),
    actors=(
        "marketplace.core.federation.actors",
        "marketplace.core.identity.actors",
        "marketplace.core.jobs.housekeeping",
    ),
)
