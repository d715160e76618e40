"""What `dramatiq marketplace.jobs.worker` loads: the broker and every domain's actors."""

from marketplace import logs
from marketplace.jobs import broker  # noqa: F401  (first: sets the global broker)
from marketplace.federation import actors as federation_actors  # noqa: F401
from marketplace.identity import actors as identity_actors  # noqa: F401
from marketplace.settings import get_settings

logs.configure(json=get_settings().app.log_json)
