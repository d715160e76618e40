from marketplace.core.db import sql_migration

ID = "2026-11-22T08:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Listing details: tags, terms, limit period, locations, slots, revisions"

SQL = """
ALTER TABLE offer
    ADD COLUMN tags varchar(32)[] NOT NULL DEFAULT '{}',
    ADD COLUMN terms_zh text NOT NULL DEFAULT '',
    ADD COLUMN terms_en text,
    ADD COLUMN cover_image varchar(200),
    ADD COLUMN limit_period varchar(8) NOT NULL DEFAULT 'total'
        CHECK (limit_period IN ('day', 'week', 'month', 'year', 'total')),
    ADD COLUMN published_at timestamptz,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

UPDATE offer SET published_at = created_at WHERE status = 'published';

-- Where an offer can be used: some of its provider's locations.
CREATE TABLE offer_location (
    id bigserial PRIMARY KEY,
    offer bigint NOT NULL REFERENCES offer (id) ON DELETE CASCADE,
    location integer NOT NULL REFERENCES location (id),
    UNIQUE (offer, location)
);
CREATE INDEX offer_location_location ON offer_location (location);

INSERT INTO offer_location (offer, location)
SELECT o.id, l.id FROM offer o JOIN location l ON l.provider = o.provider;

-- Bookable slots of a `slot` offer: each booking takes one place of its capacity.
CREATE TABLE offer_slot (
    id bigserial PRIMARY KEY,
    offer bigint NOT NULL REFERENCES offer (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    capacity integer NOT NULL CHECK (capacity > 0),
    booked integer NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= capacity),
    CHECK (starts_at < ends_at),
    UNIQUE (offer, starts_at)
);

-- An edit of a published offer, reviewed while the published version stays live.
CREATE TABLE offer_revision (
    id bigserial PRIMARY KEY,
    offer bigint NOT NULL REFERENCES offer (id) ON DELETE CASCADE,
    data jsonb NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'rejected')),
    note text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    reviewed_at timestamptz,
    reviewer integer REFERENCES operator (id)
);
CREATE UNIQUE INDEX offer_revision_one_pending ON offer_revision (offer) WHERE status = 'submitted';
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
