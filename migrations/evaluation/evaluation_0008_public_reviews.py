from marketplace.core.db import sql_migration

ID = "2026-12-04T11:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Public reviews: the rater's masked name on each rating, and the provider's one public reply"

# The member's name masked (王*芳) is kept on the rating as on a complaint, so that the offer
# and provider pages show reviews without reading the marketplace's member table. Ratings
# written before get theirs once, here.
SQL = """
ALTER TABLE rating
    ADD COLUMN member_masked varchar(50) NOT NULL DEFAULT '',
    ADD COLUMN reply varchar(500),
    ADD COLUMN replied_at timestamptz,
    ADD COLUMN replied_by integer;
UPDATE rating r SET member_masked = CASE
        WHEN char_length(m.name) <= 1 THEN '*'
        WHEN char_length(m.name) = 2 THEN left(m.name, 1) || '*'
        ELSE left(m.name, 1) || repeat('*', char_length(m.name) - 2) || right(m.name, 1) END
    FROM member m WHERE m.id = r.member;
-- The newest shown reviews of a provider: comments that count (not held).
CREATE INDEX rating_public_reviews ON rating (provider, created_at DESC) WHERE NOT held AND comment <> '';
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
