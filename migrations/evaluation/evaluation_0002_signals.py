from marketplace.core.db import sql_migration

ID = "2026-11-30T10:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Quality signals: redemptions as evaluation sees them, ratings and complaints"

SQL = """
-- Every redemption, fed by the marketplace's outbox (voucher.redeemed): what surveys,
-- samples, fake-redemption checks and complaint rates count from.
CREATE TABLE redemption (
    id bigserial PRIMARY KEY,
    voucher bigint NOT NULL UNIQUE,
    provider integer NOT NULL REFERENCES provider (id),
    offer bigint NOT NULL REFERENCES offer (id),
    category integer NOT NULL REFERENCES category (id),
    member bigint NOT NULL REFERENCES member (id),
    staff integer REFERENCES provider_user (id),
    location integer REFERENCES location (id),
    redeemed_at timestamptz NOT NULL,
    honoured boolean,  -- the member's one-tap answer, when given
    survey_due_at timestamptz NOT NULL,
    survey_sent_at timestamptz
);
CREATE INDEX redemption_provider_time ON redemption (provider, redeemed_at);
CREATE INDEX redemption_survey_due ON redemption (survey_due_at) WHERE survey_sent_at IS NULL;

-- One rating per redeemed voucher, by its member; editable for 7 days.
CREATE TABLE rating (
    id bigserial PRIMARY KEY,
    redemption bigint NOT NULL UNIQUE REFERENCES redemption (id),
    provider integer NOT NULL REFERENCES provider (id),
    member bigint NOT NULL REFERENCES member (id),
    overall smallint NOT NULL CHECK (overall BETWEEN 1 AND 5),
    service smallint CHECK (service BETWEEN 1 AND 5),
    honoured smallint CHECK (honoured BETWEEN 1 AND 5),
    environment smallint CHECK (environment BETWEEN 1 AND 5),
    attitude smallint CHECK (attitude BETWEEN 1 AND 5),
    comment varchar(500) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- Held out of the score (a burst from new accounts or one network) until an operator clears it.
    held boolean NOT NULL DEFAULT false,
    hold_reason varchar(100),
    cleared_at timestamptz
);
CREATE INDEX rating_provider_time ON rating (provider, created_at);

CREATE TABLE complaint (
    id bigserial PRIMARY KEY,
    redemption bigint REFERENCES redemption (id),
    voucher bigint NOT NULL,
    provider integer NOT NULL REFERENCES provider (id),
    member bigint NOT NULL REFERENCES member (id),
    category varchar(20) NOT NULL CHECK (category IN
        ('not_honoured', 'overcharge', 'poor_service', 'safety_hygiene', 'discrimination', 'other')),
    text varchar(2000) NOT NULL,
    status varchar(12) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    created_at timestamptz NOT NULL,
    respond_by timestamptz NOT NULL,
    answer varchar(2000),
    answered_at timestamptz,
    resolution varchar(2000),
    closed_at timestamptz,
    closed_by integer REFERENCES operator (id)
);
CREATE INDEX complaint_provider_time ON complaint (provider, created_at);
CREATE INDEX complaint_open ON complaint (respond_by) WHERE status = 'open';
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
