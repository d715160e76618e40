"""Search of visible offers: the Meilisearch index, its sync, and the member pages that
find offers (with a PostgreSQL fallback when the engine is down)."""
