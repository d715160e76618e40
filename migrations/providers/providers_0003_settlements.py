from marketplace.core.db import sql_migration

ID = "2026-12-01T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Settlements: monthly statements per provider with their lines, and the payout account"

# Lines keep a copy of what each redeemed voucher was worth when the statement was drafted:
# the provider's tables never refer to the marketplace's (voucher_id is a plain number), and
# a statement no longer changes once approved. A voucher is settled at most once.
SQL = """
ALTER TABLE provider ADD COLUMN payout_account varchar(64);

CREATE TABLE settlement_statement (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    period varchar(7) NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL CHECK (period_end > period_start),
    status varchar(10) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'paid')),
    revision integer NOT NULL DEFAULT 1,
    voucher_count integer NOT NULL DEFAULT 0 CHECK (voucher_count >= 0),
    subsidy_fen bigint NOT NULL DEFAULT 0 CHECK (subsidy_fen >= 0),
    paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
    total_fen bigint NOT NULL DEFAULT 0 CHECK (total_fen = subsidy_fen + paid_fen),
    currency varchar(3) NOT NULL DEFAULT 'CNY',
    drafted_at timestamptz NOT NULL DEFAULT now(),
    approved_at timestamptz,
    approved_by integer,
    paid_at timestamptz,
    paid_by integer,
    payout_account varchar(64),
    payout_reference varchar(64),
    UNIQUE (provider, period),
    CHECK ((status = 'draft') = (approved_at IS NULL)),
    CHECK ((status = 'paid') = (payout_reference IS NOT NULL))
);
CREATE INDEX settlement_statement_period ON settlement_statement (period, status);

CREATE TABLE settlement_line (
    id bigserial PRIMARY KEY,
    statement bigint NOT NULL REFERENCES settlement_statement (id) ON DELETE CASCADE,
    voucher_id bigint NOT NULL UNIQUE,
    voucher_code varchar(14) NOT NULL,
    offer_id integer NOT NULL,
    offer_title_zh varchar(100) NOT NULL,
    offer_title_en varchar(100) NOT NULL DEFAULT '',
    redeemed_at timestamptz NOT NULL,
    subsidy_fen integer NOT NULL CHECK (subsidy_fen >= 0),
    paid_fen integer NOT NULL CHECK (paid_fen >= 0)
);
CREATE INDEX settlement_line_statement ON settlement_line (statement, redeemed_at);
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
