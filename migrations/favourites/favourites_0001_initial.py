from marketplace.core.db import sql_migration

ID = "2026-12-04T11:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Favourites: offers and providers a member keeps (收藏)"

SQL = """
CREATE TABLE favourite (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id) ON DELETE CASCADE,
    offer bigint REFERENCES offer (id) ON DELETE CASCADE,
    provider integer REFERENCES provider (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    CHECK ((offer IS NULL) <> (provider IS NULL))
);
CREATE UNIQUE INDEX favourite_offer ON favourite (member, offer) WHERE offer IS NOT NULL;
CREATE UNIQUE INDEX favourite_provider ON favourite (member, provider) WHERE provider IS NOT NULL;
CREATE INDEX favourite_member ON favourite (member, created_at DESC);
"""

forwards = sql_migration("favourites", ID, DESCRIPTION, SQL)
