from marketplace.core.db import sql_migration

ID = "2026-12-05T10:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Search: searches that found offers, counted per day and area, for popular searches"

SQL = """
-- Aggregates only: the normalised words, the area (the searcher's node at depth 1, the
-- city or province; 0 when anonymous), the day and a count. Nothing about who searched.
CREATE TABLE search_term_daily (
    id bigserial PRIMARY KEY,
    day date NOT NULL,
    area integer NOT NULL,
    term varchar(40) NOT NULL,
    searches integer NOT NULL,
    UNIQUE (area, day, term)
);
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
