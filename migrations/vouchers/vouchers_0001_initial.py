from marketplace.core.db import sql_migration

ID = "2026-11-30T07:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Vouchers and the per-member claim counts behind their limits"

SQL = """
CREATE TABLE voucher (
    id bigserial PRIMARY KEY,
    code varchar(14) NOT NULL UNIQUE,
    offer bigint NOT NULL REFERENCES offer (id),
    member bigint NOT NULL REFERENCES member (id),
    provider integer NOT NULL REFERENCES provider (id),
    status varchar(16) NOT NULL DEFAULT 'issued'
        CHECK (status IN ('issued', 'redeemed', 'cancelled', 'expired', 'refunded')),
    period_start timestamptz NOT NULL,
    claimed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    redeemed_at timestamptz,
    redeemed_by integer REFERENCES provider_user (id),
    redeemed_location integer REFERENCES location (id),
    cancelled_at timestamptz,
    honoured boolean,
    CHECK ((status = 'redeemed') = (redeemed_at IS NOT NULL))
);
CREATE INDEX voucher_member ON voucher (member, claimed_at DESC);
CREATE INDEX voucher_offer ON voucher (offer);
CREATE INDEX voucher_provider_redeemed ON voucher (provider, redeemed_at) WHERE status = 'redeemed';
CREATE INDEX voucher_issued_expiry ON voucher (expires_at) WHERE status = 'issued';

CREATE TABLE claim_count (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id),
    offer bigint NOT NULL REFERENCES offer (id),
    period_start timestamptz NOT NULL,
    claims integer NOT NULL CHECK (claims >= 0),
    UNIQUE (member, offer, period_start)
);
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
