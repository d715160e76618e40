from marketplace.core.db import sql_migration

ID = "2026-12-06T01:30:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: packages held in escrow, the append-only escrow ledger, refunds sent through Stripe"

SQL = """
-- One prepaid package a member bought: its voucher is what the counter scans. The balance
-- left in escrow is cached here, split into the member's share and the union's subsidy,
-- written in the same transaction as every ledger entry and never below zero.
CREATE TABLE prepaid_package (
    id bigserial PRIMARY KEY,
    voucher bigint NOT NULL UNIQUE REFERENCES voucher (id),
    payment bigint NOT NULL UNIQUE REFERENCES payment (id),
    member bigint NOT NULL REFERENCES member (id),
    provider integer NOT NULL REFERENCES provider (id),
    offer bigint NOT NULL REFERENCES offer (id),
    -- Who gets the subsidy back: the campaign that paid it, else the union the offer serves.
    funding_node integer NOT NULL REFERENCES union_node (id),
    campaign bigint,
    sessions_total integer CHECK (sessions_total > 0),  -- null: a period membership
    months integer NOT NULL CHECK (months > 0),
    sessions_used integer NOT NULL DEFAULT 0 CHECK (sessions_used >= 0 AND sessions_used <= coalesce(sessions_total, 2147483647)),
    months_released integer NOT NULL DEFAULT 0 CHECK (months_released >= 0 AND months_released <= months),
    member_fen integer NOT NULL CHECK (member_fen >= 0),
    subsidy_fen integer NOT NULL CHECK (subsidy_fen >= 0),
    left_member_fen integer NOT NULL CHECK (left_member_fen >= 0 AND left_member_fen <= member_fen),
    left_subsidy_fen integer NOT NULL CHECK (left_subsidy_fen >= 0 AND left_subsidy_fen <= subsidy_fen),
    status varchar(12) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'used_up', 'refunded')),
    terms_zh text NOT NULL,
    terms_en text,
    starts_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX prepaid_package_member ON prepaid_package (member, id DESC);
CREATE INDEX prepaid_package_provider_active ON prepaid_package (provider) WHERE status = 'active';

-- The escrow ledger, append-only: held on payment, released to the provider per session (a
-- membership: per month), refunded for what is left. Amounts are positive fen in both shares.
CREATE TABLE prepaid_entry (
    id bigserial PRIMARY KEY,
    package bigint NOT NULL REFERENCES prepaid_package (id),
    provider integer NOT NULL REFERENCES provider (id),
    kind varchar(8) NOT NULL CHECK (kind IN ('hold', 'release', 'refund')),
    -- One entry per package and reference ("hold", "session:3", "month:2", "refund"): replays add nothing.
    ref varchar(32) NOT NULL,
    member_fen integer NOT NULL CHECK (member_fen >= 0),
    subsidy_fen integer NOT NULL CHECK (subsidy_fen >= 0),
    reason varchar(16),
    staff integer REFERENCES provider_user (id),
    created_at timestamptz NOT NULL,
    UNIQUE (package, ref)
);
CREATE INDEX prepaid_entry_release ON prepaid_entry (provider, created_at) WHERE kind = 'release';

CREATE FUNCTION prepaid_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'prepaid_entry is append-only';
END $$;
CREATE TRIGGER prepaid_entry_append_only BEFORE UPDATE OR DELETE ON prepaid_entry
    FOR EACH ROW EXECUTE FUNCTION prepaid_entry_append_only();

-- A refund's way back: the member's share through Stripe (sent once, under the refund's own
-- idempotency key), the subsidy to its funding node or campaign.
CREATE TABLE prepaid_refund (
    id bigserial PRIMARY KEY,
    package bigint NOT NULL UNIQUE REFERENCES prepaid_package (id),
    entry bigint NOT NULL UNIQUE REFERENCES prepaid_entry (id),
    reason varchar(16) NOT NULL CHECK (reason IN ('cooling_off', 'delisted', 'unused', 'expired')),
    member_fen integer NOT NULL CHECK (member_fen >= 0),
    subsidy_fen integer NOT NULL CHECK (subsidy_fen >= 0),
    funding_node integer NOT NULL REFERENCES union_node (id),
    campaign bigint,
    stripe_refund_id varchar(255),
    sent_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX prepaid_refund_unsent ON prepaid_refund (created_at) WHERE sent_at IS NULL;
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
