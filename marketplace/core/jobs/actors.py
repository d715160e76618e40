"""Every domain's actors, imported in one place.

Importing a domain's `actors` module declares its actors and subscribes them to their
outbox topics, so both the worker (which runs actors) and the scheduler (which relays
the outbox to them) import this module: a topic with no subscriber loaded would be
relayed to nobody.
"""

from marketplace.core.jobs import broker  # noqa: F401  (first: sets the global broker)

# isort: split
from catalog import actors as catalog  # noqa: F401
from catalog.search import actors as search  # noqa: F401
from evaluation.enforcement import actors as enforcement  # noqa: F401
from evaluation.evaluators import actors as evaluation_samples  # noqa: F401
from evaluation.ratings import actors as ratings  # noqa: F401
from evaluation.scorecards import actors as scorecards  # noqa: F401
from marketplace.campaigns import actors as campaigns  # noqa: F401
from marketplace.core.federation import actors as federation  # noqa: F401
from marketplace.core.identity import actors as identity  # noqa: F401
from marketplace.core.jobs import housekeeping  # noqa: F401
from marketplace.draws import actors as draws  # noqa: F401
from marketplace.payments import actors as payments  # noqa: F401
from marketplace.points import actors as points  # noqa: F401
from marketplace.privacy import actors as privacy  # noqa: F401
from marketplace.reports import actors as reports  # noqa: F401
from marketplace.vouchers import actors as vouchers  # noqa: F401
from providers import actors as providers  # noqa: F401
from providers.settlements import actors as settlements  # noqa: F401
