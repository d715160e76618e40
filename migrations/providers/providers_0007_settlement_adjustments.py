from marketplace.core.db import sql_migration

ID = "2026-12-04T19:00:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "Settlement corrections: money taken back after a statement was approved, carried to the next"

SQL = """
CREATE TABLE settlement_adjustment (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    voucher_id bigint NOT NULL,
    voucher_code varchar(14) NOT NULL,
    offer_title_zh varchar(100) NOT NULL,
    offer_title_en varchar(100) NOT NULL DEFAULT '',
    -- The approved or paid statement that settled the voucher, and its month.
    settled_statement bigint NOT NULL REFERENCES settlement_statement (id),
    settled_period varchar(7) NOT NULL,
    reason varchar(32) NOT NULL,
    amount_fen integer NOT NULL,  -- negative: taken back from the provider
    occurred_at timestamptz NOT NULL,
    -- The statement it is carried to; NULL until the provider's next statement is drafted.
    statement bigint REFERENCES settlement_statement (id)
);
CREATE INDEX settlement_adjustment_open ON settlement_adjustment (provider) WHERE statement IS NULL;
CREATE INDEX settlement_adjustment_statement ON settlement_adjustment (statement);
CREATE INDEX settlement_adjustment_voucher ON settlement_adjustment (voucher_id);
ALTER TABLE settlement_statement ADD COLUMN adjustment_fen bigint NOT NULL DEFAULT 0;
-- What is owed now counts the corrections carried onto the statement (it may even be less
-- than nothing). The old check, unnamed in 0003, is found by what it says.
DO $$
DECLARE old_check text;
BEGIN
    SELECT conname INTO old_check FROM pg_constraint
    WHERE conrelid = 'settlement_statement'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) LIKE '%total_fen = (subsidy_fen + paid_fen)%';
    EXECUTE format('ALTER TABLE settlement_statement DROP CONSTRAINT %I', old_check);
END $$;
ALTER TABLE settlement_statement ADD CONSTRAINT settlement_statement_total
    CHECK (total_fen = subsidy_fen + paid_fen + adjustment_fen);
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
