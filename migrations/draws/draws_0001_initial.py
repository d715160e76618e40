from marketplace.core.db import sql_migration

ID = "2026-12-05T22:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Fair draws: a draw per offer (committed seed), one entry per member, the order and places"

SQL = """
CREATE TABLE draw (
    id bigserial PRIMARY KEY,
    offer bigint NOT NULL UNIQUE REFERENCES offer (id),
    node integer NOT NULL REFERENCES union_node (id),
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    places integer NOT NULL CHECK (places > 0),
    weights jsonb NOT NULL DEFAULT '{}',
    claim_hours integer NOT NULL CHECK (claim_hours > 0),
    seed varchar(64) NOT NULL,
    seed_hash varchar(64) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'drawn')),
    drawn_at timestamptz,
    notice_until timestamptz,
    created_by bigint NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (closes_at > opens_at)
);
CREATE INDEX draw_due ON draw (closes_at) WHERE status = 'open';

CREATE TABLE draw_entry (
    id bigserial PRIMARY KEY,
    draw bigint NOT NULL REFERENCES draw (id),
    member bigint NOT NULL REFERENCES member (id),
    weight smallint NOT NULL CHECK (weight BETWEEN 1 AND 10),
    entered_at timestamptz NOT NULL,
    rank integer,
    status varchar(16) NOT NULL DEFAULT 'entered'
        CHECK (status IN ('entered', 'offered', 'waitlisted', 'claimed', 'lapsed', 'declined')),
    offered_until timestamptz,
    voucher bigint REFERENCES voucher (id),
    UNIQUE (draw, member)
);
-- Few indexes: the draw writes every entry's rank at once (100,000 rows in one statement).
-- The waitlist is read in rank order through draw_entry_rank.
CREATE UNIQUE INDEX draw_entry_rank ON draw_entry (draw, rank);
CREATE INDEX draw_entry_offered ON draw_entry (offered_until) WHERE status = 'offered';
"""

forwards = sql_migration("draws", ID, DESCRIPTION, SQL)
