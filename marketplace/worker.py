"""What `dramatiq marketplace.worker` loads (`benefits worker`): the worker's middleware
(marketplace/core/jobs/worker.py) and every composed domain's actors."""

from marketplace import composition  # noqa: F401  (registers the domains)
from marketplace.core import domains
from marketplace.core.jobs import worker  # noqa: F401  (the broker and the worker's middleware)

domains.load_actors()
