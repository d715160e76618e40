"""Jobs of the providers domain. Thin: load by id, call the service, safe to repeat."""

from marketplace.core.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
