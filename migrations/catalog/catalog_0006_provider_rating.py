from marketplace.core.db import sql_migration

ID = "2026-12-05T11:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Search: providers' ratings as evaluation last announced them, for ranking"

SQL = """
-- Catalog's own copy, written only from evaluation's `evaluation.scorecard_changed`
-- event, so that the index can sort by rating without catalog reading evaluation.
CREATE TABLE provider_rating (
    provider integer PRIMARY KEY,
    rating double precision,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
