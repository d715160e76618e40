from marketplace.core.db import sql_migration

ID = "2026-11-22T08:10:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "Search: trigram indexes for the PostgreSQL fallback, and the zero-result log"

SQL = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The degraded-mode search (Meilisearch down) matches titles by trigrams (tags by ILIKE).
CREATE INDEX offer_title_zh_trgm ON offer USING gin (title_zh gin_trgm_ops);
CREATE INDEX offer_title_en_trgm ON offer USING gin (title_en gin_trgm_ops);

-- Searches that found nothing, for the operators' demand report. No personal data:
-- the normalised query, the district and the searcher's groups only.
CREATE TABLE search_miss (
    id bigserial PRIMARY KEY,
    query varchar(100) NOT NULL,
    district varchar(100),
    groups varchar(32)[] NOT NULL DEFAULT '{}',
    degraded boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_miss_created_at ON search_miss (created_at);
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
